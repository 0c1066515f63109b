// Owns turning the Authorization header into a caller (Basic, or Bearer when JWT is configured), or a 401;
// and the brute-force guard: too many failed attempts from one client address answer 429 for a while.
import type { NextFunction, Request, Response } from 'express';
import type { Caller } from '../api/operation';
import type { CredentialCheck } from '../auth/checks';
import { errors } from '../errors';
import type { Config } from '../config';

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

const MAX_TRACKED_CLIENTS = 10_000;

/**
 * Counts failed authentications per client in fixed windows. Once a client reaches the limit, every
 * credentialed request from it is refused until its window ends — also one with the right password,
 * or a guesser would learn the answer from the difference.
 */
export class AuthFailureLimiter {
  private readonly clients = new Map<string, { failures: number; resetAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until this client may try again; 0 when it may try now. */
  retryAfter(client: string): number {
    const entry = this.clients.get(client);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.clients.delete(client);
      return 0;
    }
    return entry.failures >= this.max ? Math.ceil(left / 1000) : 0;
  }

  recordFailure(client: string): void {
    const entry = this.clients.get(client);
    if (entry && entry.resetAt > this.now()) {
      entry.failures++;
      return;
    }
    if (this.clients.size >= MAX_TRACKED_CLIENTS) this.prune();
    this.clients.set(client, { failures: 1, resetAt: this.now() + this.windowMs });
  }

  /** Bounded memory: drop ended windows, then the oldest entries. */
  private prune(): void {
    const now = this.now();
    for (const [client, entry] of this.clients) if (entry.resetAt <= now) this.clients.delete(client);
    for (const client of this.clients.keys()) {
      if (this.clients.size < MAX_TRACKED_CLIENTS) break;
      this.clients.delete(client);
    }
  }
}

function challengeFor(checks: CredentialCheck[]): string {
  return checks
    .map((c) =>
      c.scheme === 'Basic' ? 'Basic realm="composite-api", charset="UTF-8"' : 'Bearer realm="composite-api"',
    )
    .join(', ');
}

export function authenticate(checks: CredentialCheck[], config: Config) {
  const challenge = challengeFor(checks);
  const limiter = new AuthFailureLimiter(config.authFailureLimit.max, config.authFailureLimit.windowMs);
  // Without a trusted proxy req.ip is the socket's address, reached through parsing X-Forwarded-For.
  const behindProxy = config.trustProxy !== undefined;
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    // No credentials at all is not a guess; it is only told how to authenticate.
    if (!header) return next(errors.unauthenticated('Authentication is required', challenge));
    const client = (behindProxy ? req.ip : undefined) ?? req.socket.remoteAddress ?? 'unknown';
    const wait = limiter.retryAfter(client);
    if (wait > 0) return next(errors.tooManyRequests(wait));
    const space = header.indexOf(' ');
    const scheme = space > 0 ? header.slice(0, space).toLowerCase() : '';
    const check = checks.find((c) => c.scheme.toLowerCase() === scheme);
    let caller: Caller | undefined;
    try {
      caller = check ? await check.authenticate(header) : undefined;
    } catch (err) {
      // The server could not decide (key source down, database busy): not the client's failure.
      return next(err);
    }
    if (!caller) {
      limiter.recordFailure(client);
      return next(errors.unauthenticated('The credentials are not valid', challenge));
    }
    req.caller = caller;
    next();
  };
}
