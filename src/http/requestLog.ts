// Owns the request id and the one structured log line per request, with the error code of a 4xx or 5xx
// answer (never headers, query strings or bodies).
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

/** `answered`, when given, hears of every answered request with its duration (the metrics). */
export function requestLog(logger: Logger, answered?: (req: Request, res: Response, seconds: number) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    // Taken now: inside a mounted router (/rest) Express shows the path without the mount point.
    const path = req.path;
    req.id = randomUUID();
    res.setHeader('X-Request-Id', req.id);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      answered?.(req, res, durationMs / 1000);
      // The error's code only (set by sendError), never its messages: they can name the caller's values.
      const errorCode = res.statusCode >= 400 ? (res.locals.errorCode as string | undefined) : undefined;
      logger.info(
        {
          reqId: req.id,
          method: req.method,
          path,
          status: res.statusCode,
          errorCode,
          durationMs: Math.round(durationMs * 100) / 100,
          user: req.caller?.username,
        },
        'request',
      );
    });
    next();
  };
}
