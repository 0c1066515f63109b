// Owns turning the Authorization header into a caller (Basic, or Bearer when JWT is configured), or a 401.
import type { NextFunction, Request, Response } from 'express';
import type { Caller } from '../api/operation';
import { errors } from '../errors';
import type { Config } from '../config';

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

/** Something that can say who an Authorization header belongs to (undefined: it cannot). */
export interface CredentialCheck {
  scheme: 'Basic' | 'Bearer';
  authenticate(header: string): Promise<Caller | undefined>;
}

export function authenticate(checks: CredentialCheck[], _config: Config) {
  const challenge = checks.map((c) => (c.scheme === 'Basic' ? 'Basic realm="composite-api", charset="UTF-8"' : 'Bearer realm="composite-api"')).join(', ');
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next(errors.unauthenticated('Authentication is required', challenge));
    const scheme = header.slice(0, header.indexOf(' ')).toLowerCase();
    const check = checks.find((c) => c.scheme.toLowerCase() === scheme);
    const caller = check ? await check.authenticate(header) : undefined;
    if (!caller) return next(errors.unauthenticated('The credentials are not valid', challenge));
    req.caller = caller;
    next();
  };
}
