// Owns HTTP hygiene applied to every response.
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config';

export function securityMiddleware(_config: Config) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  };
}
