// Owns running work in one database transaction, retried whole on serialization failures and deadlocks:
// each on one pooled connection with no knex transaction object (src/db/sqliteTransaction.ts, pgTransaction.ts).
import type { Knex } from 'knex';
import { errors } from '../errors';
import type { DbHandle } from './exec';
import { observerOf, type Observer } from '../observe';
import { isConnectionLost, isRetryable, mapDbError, storageFaultCode } from './errors';
import { isSqlite } from './knex';
import { runSqliteTransaction, type DurableWork } from './sqliteTransaction';
import { runPgTransaction } from './pgTransaction';

export interface TransactionOptions {
  /** How many times to try again after a serialization failure or deadlock. */
  retries: number;
  isolationLevel?: Knex.IsolationLevels;
  /**
   * Work that must hold even when the transaction's own work fails (a composite's id reservation).
   * It is the first statement of the transaction. On PostgreSQL it runs once, in one round trip with
   * BEGIN, and holds by itself (nextval is never rolled back). On SQLite, so a composite commits
   * once; if the transaction fails, `keep` commits its effect on its own after the rollback.
   */
  durable?: DurableWork<DbHandle>;
}

/**
 * Read-only work, run once more when the connection it used was lost (the pool then hands out a
 * fresh one); its error otherwise, as it is.
 */
export async function onceMoreIfConnectionLost<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!isConnectionLost(err)) throw err;
    return work();
  }
}

export async function inTransaction<T>(
  knex: Knex,
  fn: (trx: DbHandle) => Promise<T>,
  opts: TransactionOptions,
): Promise<T> {
  const sqlite = isSqlite(knex);
  let durable = opts.durable;
  const observer = observerOf(knex);
  const start = performance.now();
  let reconnected = false;
  for (let attempt = 0; ; attempt++) {
    let reachedCommit = false;
    try {
      const result = sqlite
        ? await runSqliteTransaction(knex, fn, durable)
        : await runPgTransaction(
            knex,
            async (trx) => {
              // Once, in the first attempt that gets that far: nextval is never rolled back, so what
              // it reserved holds whatever becomes of this transaction, and a retry reuses it.
              if (durable) {
                await durable.run(trx);
                durable = undefined;
              }
              return fn(trx);
            },
            opts.isolationLevel,
            () => (reachedCommit = true),
          );
      observer.transaction((performance.now() - start) / 1000, attempt, 'committed');
      return result;
    } catch (err) {
      if (!sqlite && isConnectionLost(err)) {
        // Work that never reached COMMIT committed nothing: run once more, on a fresh connection
        // (the pool drops the broken one). After COMMIT was sent nobody knows; the 503 says so.
        if (!reachedCommit && !reconnected) {
          reconnected = true;
          continue;
        }
        reportFailure(observer, start, attempt, err);
        throw mapDbError(err);
      }
      const retryable = isRetryable(err);
      if (!retryable || attempt >= opts.retries) {
        reportFailure(observer, start, attempt, err);
        throw retryable
          ? errors.serviceUnavailable('The database was too busy to complete the request; try again', 1)
          : err;
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10 * (attempt + 1))));
    }
  }
}

function reportFailure(observer: Observer, start: number, attempt: number, err: unknown): void {
  observer.transaction((performance.now() - start) / 1000, attempt, 'rolled_back');
  const storage = storageFaultCode(err);
  if (storage !== undefined) observer.storageFault(storage);
}
