// Owns GET /healthz: 200 once the database answers, 503 when it does not.
import type { Request, Response } from 'express';
import type { Knex } from 'knex';

export function healthCheck(knex: Knex) {
  return async (_req: Request, res: Response) => {
    try {
      await knex.raw('select 1');
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    }
  };
}
