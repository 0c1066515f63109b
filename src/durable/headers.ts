// Owns reading the request headers of durable calls: Idempotency-Key (IETF draft), Prefer:
// respond-async[, wait=N] (RFC 7240), and the fingerprint that tells one request from another.
import { createHash } from 'node:crypto';
import { REQUEST_HEADERS } from '../api/headers';
import { errors } from '../errors';

const MAX_KEY_LENGTH = REQUEST_HEADERS.idempotencyKey.schema.maxLength;
/** The longest `wait` honoured: a client that wants to wait longer can poll. */
export const MAX_WAIT_SECONDS = 60;

/** The key, if the request has one; an empty or over-long key is refused (400). */
export function idempotencyKey(headers: Record<string, string | undefined>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw errors.badInput(`Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`, [
      { message: 'Bad Idempotency-Key', properties: { length: key.length } },
    ]);
  }
  return key;
}

export interface AsyncPreference {
  /** Seconds to wait for the answer before answering 202. */
  waitSeconds: number;
}

/**
 * `respond-async` among the preferences, with `wait` if given. Preferences are comma-separated,
 * names case-insensitive; one the server does not know, or a malformed `wait`, is ignored (RFC 7240).
 */
export function asyncPreference(prefer: string | undefined): AsyncPreference | undefined {
  if (prefer === undefined) return undefined;
  let respondAsync = false;
  let waitSeconds = 0;
  for (const item of prefer.split(',')) {
    const [name, value] = item
      .split(';')[0]
      .split('=')
      .map((s) => s.trim());
    if (name.toLowerCase() === 'respond-async' && value === undefined) respondAsync = true;
    if (name.toLowerCase() === 'wait' && value !== undefined && /^\d{1,6}$/.test(value))
      waitSeconds = Math.min(Number(value), MAX_WAIT_SECONDS);
  }
  return respondAsync ? { waitSeconds } : undefined;
}

/** Method, request uri (with its query) and body bytes: a key sent again must come with the same three. */
export function fingerprint(method: string, uri: string, body: Buffer | undefined): string {
  const hash = createHash('sha256').update(`${method.toUpperCase()} ${uri}\n`);
  if (body) hash.update(body);
  return hash.digest('hex');
}
