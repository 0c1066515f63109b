// Owns reading request bodies: size limit (413), content type (415), and safe JSON parsing that
// refuses prototype-poisoning members.
import express, { type Request } from 'express';
import sjson from 'secure-json-parse';
import { errors } from '../errors';

export function rawBody(limitBytes: number) {
  return express.raw({ type: () => true, limit: limitBytes });
}

export function bodyBuffer(req: Request): Buffer | undefined {
  return Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
}

function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Parses a JSON body; no body at all is `undefined`. */
export function jsonBody(req: Request): unknown {
  const buf = bodyBuffer(req);
  if (!buf) return undefined;
  if (!isJsonType(req.headers['content-type'])) throw errors.unsupportedMediaType(req.headers['content-type'] ?? 'none');
  try {
    return sjson.parse(buf.toString('utf8'), undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const message = err instanceof SyntaxError ? err.message.replace(/\s+in JSON at position.*$/, '') : 'members named __proto__ or constructor are not allowed';
    throw errors.malformedJson(message.slice(0, 200));
  }
}
