// Owns transactions on SQLite: BEGIN IMMEDIATE … COMMIT straight on the pooled better-sqlite3
// connection, with no knex transaction object in between (building one costs more than a hundred
// prepared inserts), and an optional durable prelude that commits even when the work fails.
import type { Knex } from 'knex';
import type { Database, Statement } from 'better-sqlite3';

/** The handle of a SQLite transaction: its one connection, and the knex that writes its SQL. */
export class SqliteTransaction {
  constructor(
    /** The knex instance of the database: used to compile SQL, never to run it. */
    readonly knex: Knex,
    readonly conn: Database,
  ) {}

  get client(): Knex['client'] {
    return this.knex.client;
  }
}

type Control = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackToSavepoint';

const CONTROL_SQL: Record<Control, string> = {
  // IMMEDIATE takes the write lock at once: two writers never deadlock upgrading a read lock.
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: 'SAVEPOINT work',
  release: 'RELEASE work',
  rollbackToSavepoint: 'ROLLBACK TO work',
};

const controlStatements = new WeakMap<Database, Map<Control, Statement>>();

function control(conn: Database, what: Control): void {
  let stmts = controlStatements.get(conn);
  if (!stmts) controlStatements.set(conn, (stmts = new Map()));
  let stmt = stmts.get(what);
  if (!stmt) stmts.set(what, (stmt = conn.prepare(CONTROL_SQL[what])));
  stmt.run();
}

interface PoolClient {
  acquireConnection(): Promise<Database>;
  releaseConnection(conn: Database): Promise<unknown>;
}

/**
 * Runs `fn` in one transaction on a connection of the pool (which holds one: SQLite has one writer).
 * With `durable`, that runs first and `fn` runs inside a savepoint: if `fn` fails, its work is rolled
 * back and what `durable` did is still committed (a composite's id reservation).
 */
export async function runSqliteTransaction<T>(
  knex: Knex,
  fn: (trx: SqliteTransaction) => Promise<T>,
  durable?: (trx: SqliteTransaction) => Promise<void>,
): Promise<T> {
  const pool = knex.client as PoolClient;
  const conn = await pool.acquireConnection();
  try {
    const trx = new SqliteTransaction(knex, conn);
    control(conn, 'begin');
    let inSavepoint = false;
    try {
      if (durable) {
        await durable(trx);
        control(conn, 'savepoint');
        inSavepoint = true;
      }
      const result = await fn(trx);
      if (inSavepoint) control(conn, 'release');
      control(conn, 'commit');
      return result;
    } catch (err) {
      undo(conn, inSavepoint);
      throw err;
    }
  } finally {
    await pool.releaseConnection(conn);
  }
}

/** After a failure: keep what came before the savepoint (if there is one), drop everything else. */
function undo(conn: Database, inSavepoint: boolean): void {
  if (!conn.inTransaction) return;
  if (inSavepoint) {
    try {
      control(conn, 'rollbackToSavepoint');
      control(conn, 'release');
      control(conn, 'commit');
      return;
    } catch {
      // Fall through: nothing of this transaction is kept.
    }
  }
  if (conn.inTransaction) control(conn, 'rollback');
}
