// Owns transactions on PostgreSQL: BEGIN … COMMIT straight on a pooled pg connection, with no knex
// transaction object in between — the same reason as src/db/sqliteTransaction.ts: building one (its
// client, its emitter, BEGIN and COMMIT through knex's query pipeline) costs more CPU than a small
// composite's own statements, and on a machine PostgreSQL shares that CPU is throughput lost.
import type { Knex } from 'knex';
import type { ClientBase } from 'pg';

/** The handle of a PostgreSQL transaction: its one connection and the knex that writes its SQL. */
export class PgTransaction {
  /** Read where a knex transaction is told apart from the pool (write-behind starts only inside one). */
  readonly isTransaction = true;

  constructor(
    /** The knex instance of the database: used to compile SQL, never to run it. */
    readonly knex: Knex,
    readonly conn: ClientBase,
  ) {}

  get client(): Knex['client'] {
    return this.knex.client;
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
    await conn.query(isolationLevel ? BEGIN[isolationLevel] : 'BEGIN');
    let result: T;
    try {
      result = await fn(new PgTransaction(knex, conn));
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    committing();
    await conn.query('COMMIT');
    return result;
  } finally {
    await pool.releaseConnection(conn);
  }
}
