// Owns transactions on PostgreSQL: BEGIN … COMMIT straight on a pooled pg connection, with no knex
// transaction object in between — the same reason as src/db/sqliteTransaction.ts: building one (its
// client, its emitter, BEGIN and COMMIT through knex's query pipeline) costs more CPU than a small
// composite's own statements, and on a machine PostgreSQL shares that CPU is throughput lost.
import type { Knex } from 'knex';
import type { ClientBase, QueryResult, QueryResultRow } from 'pg';
import { BatchedWriteFailed, CommitInsertFailed, isConnectionLost, isRetryable } from './errors';
import { takeQueuedAsText } from './pgWriteBehind';

/** The handle of a PostgreSQL transaction: its one connection and the knex that writes its SQL. */
export class PgTransaction {
  /** Read where a knex transaction is told apart from the pool (write-behind starts only inside one). */
  readonly isTransaction = true;
  /** Set once the work queued its last insert: what is queued then goes with COMMIT (`flushWritesBeforeCommit`). */
  writesAtCommit = false;
  /** An insert the work sent last (`withCommit`): its text, and the table it writes. */
  private last: { text: string; table: string } | undefined;

  constructor(
    /** The knex instance of the database: used to compile SQL, never to run it. */
    readonly knex: Knex,
    readonly conn: ClientBase,
    /**
     * The BEGIN not sent yet: it goes with the transaction's first statement (`first`), or on its own
     * just before the first statement that has parameters (`begun`). A round trip fewer per transaction.
     */
    private opening: string | undefined,
  ) {}

  get client(): Knex['client'] {
    return this.knex.client;
  }

  /** Whether BEGIN has been sent (then COMMIT or ROLLBACK has something to end). */
  get started(): boolean {
    return this.opening === undefined;
  }

  /** Sends BEGIN if it has not been sent. */
  begun(): Promise<void> | undefined {
    if (this.opening === undefined) return undefined;
    const opening = this.opening;
    this.opening = undefined;
    return this.conn.query(opening).then(() => undefined);
  }

  /**
   * Runs `sql`, a statement with no parameters (every value in it is the server's own, never a
   * client's), in one round trip with BEGIN when this is the transaction's first statement.
   */
  async first<R extends QueryResultRow>(sql: string): Promise<R[]> {
    if (this.opening === undefined) return (await this.conn.query<R>(sql)).rows;
    const text = `${this.opening}; ${sql}`;
    this.opening = undefined;
    const results = (await this.conn.query<R>(text)) as unknown as QueryResult<R>[];
    return results[results.length - 1].rows;
  }

  /**
   * Sends `text`, a single-row INSERT into `table` with its values as literals, with COMMIT, after
   * the queued inserts: the work's last statement, a round trip fewer. Its failure there is
   * `CommitInsertFailed` (told from a queued insert's by the table the error names).
   */
  withCommit(text: string, table: string): void {
    this.last = { text, table };
  }

  /** The table of the insert sent with COMMIT, if any. */
  get lastTable(): string | undefined {
    return this.last?.table;
  }

  /** The text that commits: BEGIN if it was never sent, `queued` inserts and the last one if any, then COMMIT. */
  commitText(queued: string | undefined): string | undefined {
    const inserts =
      this.last === undefined ? queued : queued === undefined ? this.last.text : `${queued}; ${this.last.text}`;
    if (inserts === undefined) return this.started ? 'COMMIT' : undefined;
    const text = this.opening === undefined ? `${inserts}; COMMIT` : `${this.opening}; ${inserts}; COMMIT`;
    this.opening = undefined;
    return text;
  }
}

/**
 * Sends the commit. With inserts in front (one simple query, several statements: one round trip), an
 * insert that fails leaves the transaction aborted and the rest of the text unrun: it is rolled back,
 * and the failure names no row (`BatchedWriteFailed`), or is the last insert's (`CommitInsertFailed`);
 * a failure worth retrying is thrown as it is.
 */
async function commit(conn: ClientBase, text: string, lastTable: string | undefined): Promise<void> {
  if (text === 'COMMIT') {
    await conn.query(text);
    return;
  }
  try {
    await conn.query(text);
  } catch (err) {
    if (isConnectionLost(err)) throw err;
    await conn.query('ROLLBACK').catch(() => undefined);
    if (isRetryable(err)) throw err;
    if (lastTable !== undefined && (err as { table?: unknown }).table === lastTable) throw new CommitInsertFailed(err);
    throw new BatchedWriteFailed(err);
  }
}

interface PoolClient {
  acquireConnection(): Promise<ClientBase>;
  releaseConnection(conn: ClientBase): Promise<unknown>;
}

const BEGIN: Record<string, string> = {
  'read uncommitted': 'BEGIN ISOLATION LEVEL READ UNCOMMITTED',
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};

/**
 * Runs `fn` in one transaction on a connection of the pool; `committing` is called once `fn`
 * succeeded, right before COMMIT is sent. A failure rolls back (a connection that broke is dropped
 * by the pool, which checks a connection before handing it out again).
 */
export async function runPgTransaction<T>(
  knex: Knex,
  fn: (trx: PgTransaction) => Promise<T>,
  isolationLevel: Knex.IsolationLevels | undefined,
  committing: () => void,
): Promise<T> {
  const pool = knex.client as PoolClient;
  const conn = await pool.acquireConnection();
  try {
    const trx = new PgTransaction(knex, conn, isolationLevel ? BEGIN[isolationLevel] : 'BEGIN');
    let result: T;
    try {
      result = await fn(trx);
    } catch (err) {
      if (trx.started) await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    committing();
    // A transaction that ran no statement and queued nothing has nothing to commit.
    const text = trx.commitText(takeQueuedAsText(trx));
    if (text !== undefined) await commit(conn, text, trx.lastTable);
    return result;
  } finally {
    await pool.releaseConnection(conn);
  }
}
