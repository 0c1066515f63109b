// Owns transactions on SQLite: BEGIN IMMEDIATE … COMMIT straight on the pooled better-sqlite3
// connection, with no knex transaction object in between (building one outweighs a composite's
// prepared inserts; bench/README.md), and optional durable work that holds even when the rest rolls back; and each
// connection's cache of prepared statements.
import type { Knex } from 'knex';
import type { Database, Statement } from 'better-sqlite3';
import { isRetryable, QueuedWriteFailed } from './errors';
import { InsertQueue } from './insertQueue';

/** The handle of a SQLite transaction: its one connection, the knex that writes its SQL, and its write-behind queue. */
export class SqliteTransaction {
  /**
   * Inserts written behind (see `writeBehind` in exec.ts). Run back to back at `flush`, SQLite's code
   * and pages stay in the CPU's caches, which inserts interleaved with each subrequest's JavaScript
   * would evict. Their ids are reserved ahead, so nothing waits on an insert to know its result.
   */
  readonly writes = new InsertQueue();

  constructor(
    /** The knex instance of the database: used to compile SQL, never to run it. */
    readonly knex: Knex,
    readonly conn: Database,
  ) {}

  get client(): Knex['client'] {
    return this.knex.client;
  }

  /**
   * Runs the queued inserts, in order. The first that fails ends the flush with `QueuedWriteFailed`
   * naming its owner (the rest are dropped: the transaction is to roll back); a failure that calls for
   * trying the whole transaction again is thrown as it is.
   */
  flush(): void {
    if (!this.writes.pending) return;
    for (const q of this.writes.take()) {
      try {
        prepared(this.conn, q.sql).run(...q.args);
      } catch (err) {
        throw isRetryable(err) ? err : new QueuedWriteFailed(q.owner, err);
      }
    }
  }
}

type Control = 'begin' | 'commit' | 'rollback';

const CONTROL_SQL: Record<Control, string> = {
  // IMMEDIATE takes the write lock at once: two writers never deadlock upgrading a read lock.
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
};

const statementCache = new WeakMap<Database, Map<string, Statement>>();

/** The connection's prepared statement for `sql`, prepared on first use and kept with the connection. */
export function prepared(conn: Database, sql: string): Statement {
  let cache = statementCache.get(conn);
  if (!cache) statementCache.set(conn, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = conn.prepare(sql)));
  return stmt;
}

function control(conn: Database, what: Control): void {
  prepared(conn, CONTROL_SQL[what]).run();
}

interface PoolClient {
  acquireConnection(): Promise<Database>;
  releaseConnection(conn: Database): Promise<unknown>;
}

/** Work that must hold even when the transaction it starts rolls back (a composite's id reservation). */
export interface DurableWork<H> {
  /** Runs first, inside the transaction. */
  run(h: H): Promise<void>;
  /** After a rollback, in a transaction of its own: makes what `run` did hold after all. */
  keep(h: H): Promise<void>;
}

/**
 * Runs `fn` in one transaction on a connection of the pool (which holds one: SQLite has one writer).
 * With `durable`, that runs first; if `fn` then fails, everything is rolled back and `durable.keep`
 * commits on its own before the connection is handed back, so no other writer comes in between (a
 * SQLite file is served by one server process; see the README on several instances).
 * There is no savepoint: inside one, SQLite journals the pages each statement touches for the
 * savepoint as well, and every insert pays for it.
 */
export async function runSqliteTransaction<T>(
  knex: Knex,
  fn: (trx: SqliteTransaction) => Promise<T>,
  durable?: DurableWork<SqliteTransaction>,
): Promise<T> {
  const pool = knex.client as PoolClient;
  const conn = await pool.acquireConnection();
  try {
    const trx = new SqliteTransaction(knex, conn);
    control(conn, 'begin');
    let ran = false;
    try {
      if (durable) {
        await durable.run(trx);
        ran = true;
      }
      const result = await fn(trx);
      trx.flush();
      control(conn, 'commit');
      return result;
    } catch (err) {
      // Work that must hold after the rollback (`DurableWork.keep`) runs on this handle: without these.
      trx.writes.discard();
      if (conn.inTransaction) control(conn, 'rollback');
      if (ran && durable) await keepAlone(conn, trx, durable);
      throw err;
    }
  } finally {
    await pool.releaseConnection(conn);
  }
}

async function keepAlone(
  conn: Database,
  trx: SqliteTransaction,
  durable: DurableWork<SqliteTransaction>,
): Promise<void> {
  control(conn, 'begin');
  try {
    await durable.keep(trx);
    control(conn, 'commit');
  } catch (err) {
    if (conn.inTransaction) control(conn, 'rollback');
    throw err;
  }
}
