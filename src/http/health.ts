// Owns GET /healthz: 200 once the database answers, 503 when it does not (or not within the time-out).
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { sendJson } from './json';

/** A hung connection must not hang the health check: a load balancer needs an answer. */
const DEFAULT_TIMEOUT_MS = 5000;

function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('health check timed out')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function healthCheck(knex: Knex, timeoutMs = DEFAULT_TIMEOUT_MS) {
  return async (_req: Request, res: Response) => {
    try {
      await withinTime(knex.raw('select 1'), timeoutMs);
      sendJson(res, 200, { status: 'ok' });
    } catch {
      sendJson(res, 503, { status: 'unavailable', database: 'unreachable' });
    }
  };
}
