// Owns rendering every error as the contract's error body; anything unexpected becomes a bare 500
// with the request id, and is logged without stack, SQL or values.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, errors } from '../errors';
import { dbErrorCode, mapDbError } from '../db/errors';
import { sendJson } from './json';

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Body-parser and other well-known infrastructure errors, as contract errors. */
function known(err: unknown, limit: number): ApiError | undefined {
  const e = err as BodyParserError;
  if (e?.type === 'entity.too.large') return errors.payloadTooLarge(limit);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return errors.unsupportedMediaType('that encoding');
  if (e?.type === 'request.aborted' || e?.type === 'request.size.invalid')
    return errors.badInput('The request body was incomplete');
  // Express's router refuses a path parameter it cannot percent-decode: the client's mistake, not a 500.
  if (err instanceof URIError) return errors.badInput('The request path holds a malformed percent-encoding');
  const mapped = mapDbError(err);
  return mapped instanceof ApiError ? mapped : undefined;
}

export function sendError(res: Response, err: ApiError): void {
  // For the request's log line (src/http/requestLog.ts).
  res.locals.errorCode = err.errorCode;
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  sendJson(res, err.status, err.toBody());
}

export function errorHandler(logger: Logger, bodyLimit: number) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let apiError = err instanceof ApiError ? err : known(err, bodyLimit);
    if (!apiError) {
      // Name and driver code only: a message can hold SQL, and a stack is not for logs.
      logger.error(
        { reqId: req.id, error: (err as Error)?.name ?? typeof err, code: dbErrorCode(err) },
        'unexpected error',
      );
      apiError = errors.internal(req.id);
    }
    if (res.headersSent) return;
    sendError(res, apiError);
  };
}
