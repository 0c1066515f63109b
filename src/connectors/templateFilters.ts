// Owns the Jinja helpers connector templates add to nunjucks: from_json, tojson, base64_encode and
// base64_decode, each usable as a filter and as a function. Bad data raises TemplateDataError, whose
// fixed message is safe to show.
import nunjucks from 'nunjucks';
import sjson from 'secure-json-parse';

/** An error a filter raises on bad data; its message is fixed text and safe to show. */
export class TemplateDataError extends Error {
  override name = 'TemplateDataError';
}

const SafeString = (nunjucks as unknown as { runtime: { SafeString: new (s: string) => object } }).runtime.SafeString;

function fromJson(value: unknown): unknown {
  if (typeof value !== 'string' && !(value instanceof SafeString)) {
    if (value !== null && typeof value === 'object') return value;
    throw new TemplateDataError('from_json needs text, got nothing');
  }
  try {
    return sjson.parse(String(value), undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch {
    throw new TemplateDataError('from_json was given text that is not valid JSON');
  }
}

function toJson(value: unknown): string {
  return JSON.stringify(value instanceof SafeString ? String(value) : value) ?? 'null';
}

function base64Encode(value: unknown): string {
  return Buffer.from(value === undefined || value === null ? '' : String(value), 'utf8').toString('base64');
}

function base64Decode(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value).trim();
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text))
    throw new TemplateDataError('base64_decode was given text that is not base64');
  return Buffer.from(text, 'base64').toString('utf8');
}

export const JINJA_HELPERS = {
  from_json: fromJson,
  tojson: toJson,
  base64_encode: base64Encode,
  base64_decode: base64Decode,
};
