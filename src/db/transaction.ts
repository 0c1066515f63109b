// Owns running work in one database transaction, retried whole on serialization failures and deadlocks.
import type { Knex } from 'knex';
import { errors } from '../errors';
import { isRetryable } from './errors';
import { isSqlite } from './knex';

export interface TransactionOptions {
  /** How many times to try again after a serialization failure or deadlock. */
  retries: number;
  isolationLevel?: Knex.IsolationLevels;
}

export async function inTransaction<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>, opts: TransactionOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const config = !isSqlite(knex) && opts.isolationLevel ? { isolationLevel: opts.isolationLevel } : undefined;
      return await knex.transaction(fn, config);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (attempt >= opts.retries) throw errors.serviceUnavailable('The database was too busy to complete the request; try again', 1);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10 * (attempt + 1))));
    }
  }
}
