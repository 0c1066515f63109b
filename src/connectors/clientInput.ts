// Owns what a connector run takes from its caller: checked X-Path-Params, and its body, headers and query.
import sjson from 'secure-json-parse';
import type { OpInput } from '../api/operation';
import { ConnectorFailure, type FailureSite } from './failure';
import type { ClientData } from './run';

const PATH_PARAM_VALUE = /^[A-Za-z0-9._~-]{1,200}$/;
/** Client headers templates never see: the caller's own credentials. */
const PRIVATE_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-path-params']);

/** X-Path-Params: a JSON object of unreserved values; exactly the parameters the URL reads. */
export function parsePathParams(
  header: string | undefined,
  required: readonly string[],
  site: FailureSite,
): Record<string, string> {
  const bad = (detail: string) => new ConnectorFailure('pathParams', 'INVALID_PATH_PARAMS', detail, site);
  let given: unknown = {};
  if (header !== undefined) {
    try {
      given = sjson.parse(header, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw bad('X-Path-Params must be a JSON object');
    }
  }
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw bad('X-Path-Params must be a JSON object');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
    if (!required.includes(key)) throw bad(`path parameter "${key.slice(0, 50)}" is not used by this connector`);
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !PATH_PARAM_VALUE.test(text) || text.includes('..')) {
      throw bad(`path parameter "${key}" must be 1-200 of A-Z a-z 0-9 - . _ ~ (and not "..")`);
    }
    out[key] = encodeURIComponent(text);
  }
  const missing = required.filter((k) => out[k] === undefined);
  if (missing.length > 0)
    throw bad(
      `missing path parameter${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (send them in X-Path-Params)`,
    );
  return out;
}

export function clientData(input: OpInput, pathParams: Record<string, string>): ClientData {
  const body = input.rawBody ?? Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers))
    if (v !== undefined && !PRIVATE_HEADERS.has(k)) headers[k] = String(v);
  return {
    body,
    bodyText: body.toString('utf8'),
    bodyRaw: body.toString('base64'),
    contentType: input.headers['content-type'],
    headers,
    query: input.query,
    pathParams,
  };
}
