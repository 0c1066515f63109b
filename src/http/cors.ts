// Owns cross-origin access for browser clients: the origins named in CORS_ORIGINS get the CORS
// headers (through the cors package) on every answer, errors included, and their preflights are
// answered here, before authentication — a browser never sends credentials with a preflight. A
// preflight from any other origin is refused with 403 and no Access-Control-Allow-Origin.
import type { NextFunction, Request, Response } from 'express';
import cors from 'cors';
import { errors } from '../errors';

/** Request headers a browser client may send: what the API reads, besides the CORS-safelisted ones. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'GW-Checksum',
  'GW-DBTransaction-ID',
  'GW-DoNotCommit',
  'GW-UnknownPropertyHandling',
  'GW-UnknownQueryParamHandling',
  'Idempotency-Key',
  'Prefer',
];

/** Response headers a browser client may read, besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = [
  'Server-Timing',
  'GW-Checksum',
  'Location',
  'GW-Async-Location',
  'Idempotent-Replayed',
  'Retry-After',
  'X-Request-Id',
];

/** How long a browser may reuse a preflight's answer (seconds; browsers cap it lower themselves). */
const PREFLIGHT_MAX_AGE = 600;

function isPreflight(req: Request): boolean {
  return (
    req.method === 'OPTIONS' &&
    req.headers.origin !== undefined &&
    req.headers['access-control-request-method'] !== undefined
  );
}

export function corsPolicy(origins: readonly string[]) {
  const allowed = new Set(origins);
  const policy = cors({
    origin: (origin, done) => done(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE,
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (isPreflight(req)) {
      res.locals.operation = 'cors_preflight';
      if (!allowed.has(req.headers.origin as string)) {
        return next(errors.forbidden('Cross-origin requests from this origin are not allowed (CORS_ORIGINS)'));
      }
    }
    policy(req, res, next);
  };
}
