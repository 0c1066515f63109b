// Owns the hot path to the driver: prepared statements compiled once per connection and reused,
// inside whatever transaction (SQLite's own, a knex one on PostgreSQL) or pool the caller hands in.
import type { Knex } from 'knex';
import type { Database } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { ClientBase, QueryResult } from 'pg';
import type { MaybePromise } from './maybePromise';
import { dbErrorCode } from './errors';
import { isSqlite } from './knex';
import { prepared, SqliteTransaction } from './sqliteTransaction';
import { PgTransaction } from './pgTransaction';
import { flushQueued, hasQueued, queueInsert, startWriteBehind } from './pgWriteBehind';

/** A knex instance or a knex transaction: what writes SQL, and on PostgreSQL also what runs it. */
export type KnexHandle = Knex | Knex.Transaction;

/** What runs on PostgreSQL: the pool (a knex instance), a knex transaction, or one of ours. */
type PgHandle = KnexHandle | PgTransaction;

export type DbHandle = KnexHandle | SqliteTransaction | PgTransaction;

/** The knex instance that writes a handle's SQL (query builders are used to compile, never to run). */
export function knexOf(h: DbHandle): KnexHandle {
  return h instanceof SqliteTransaction || h instanceof PgTransaction ? h.knex : h;
}

function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/**
 * Runs `fn` with the raw driver connection the handle owns: one from the pool, or a knex
 * transaction's own (whose acquire hands back that connection and whose release does nothing).
 */
async function withConnection<C, T>(h: PgHandle, fn: (conn: C) => T | Promise<T>): Promise<T> {
  if (h instanceof PgTransaction) {
    const begun = h.begun();
    return begun ? begun.then(() => fn(h.conn as C)) : fn(h.conn as C);
  }
  const client = h.client as { acquireConnection(): Promise<C>; releaseConnection(c: C): Promise<unknown> };
  const conn = await client.acquireConnection();
  try {
    return await fn(conn);
  } finally {
    await client.releaseConnection(conn);
  }
}

interface PgStatement {
  name: string;
  text: string;
}

const pgStatements = new Map<string, PgStatement>();

/**
 * The `?` placeholders of `sql` as `$1…$n` (as knex's own pg client numbers them), under a name
 * derived from the text: PostgreSQL parses and plans a named statement once per connection.
 */
function pgStatement(sql: string): PgStatement {
  let stmt = pgStatements.get(sql);
  if (!stmt) {
    let n = 0;
    const text = sql.replace(/(\\*)\?/g, (_match, escapes: string) => (escapes.length % 2 ? '?' : `$${++n}`));
    stmt = { name: `cas_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text };
    pgStatements.set(sql, stmt);
  }
  return stmt;
}

/**
 * Per connection, how many times its prepared statements went stale. A migration that changes a
 * table under a running instance (a rolling deploy) makes PostgreSQL refuse a statement prepared
 * before it ("cached plan must not change result type", 0A000); the connection then prepares every
 * statement afresh under a new name.
 */
const pgGenerations = new WeakMap<ClientBase, number>();
const STALE_PLAN = '0A000';

async function pgRun(conn: ClientBase, stmt: PgStatement, values: unknown[]): Promise<QueryResult> {
  const generation = pgGenerations.get(conn) ?? 0;
  try {
    return await conn.query({ name: generation ? `${stmt.name}_${generation}` : stmt.name, text: stmt.text, values });
  } catch (err) {
    if (dbErrorCode(err) === STALE_PLAN) pgGenerations.set(conn, generation + 1);
    throw err;
  }
}

/** Runs a statement on PostgreSQL, after the inserts write-behind queued on the transaction. */
function pgQuery(h: PgHandle, sql: string, bindings: readonly unknown[]): Promise<QueryResult> {
  if (hasQueued(h)) return flushPg(h).then(() => pgQueryNow(h, sql, bindings));
  return pgQueryNow(h, sql, bindings);
}

function flushPg(h: PgHandle): Promise<void> {
  const located = !(h instanceof PgTransaction && h.writesAtCommit); // see flushWritesBeforeCommit
  return flushQueued(h, (sql, values) => pgQueryNow(h, sql, values), located);
}

function pgQueryNow(h: PgHandle, sql: string, bindings: readonly unknown[]): Promise<QueryResult> {
  const stmt = pgStatement(sql);
  const values = bindings.map((v) => (v === undefined ? null : v));
  return withConnection<ClientBase, QueryResult>(h, async (conn) => {
    try {
      return await pgRun(conn, stmt, values);
    } catch (err) {
      // Outside a transaction nothing is lost by asking again at once; inside one, the error aborted
      // the transaction and the whole of it is retried (src/db/transaction.ts).
      if (dbErrorCode(err) !== STALE_PLAN || (h as PgTransaction).isTransaction) throw err;
      return pgRun(conn, stmt, values);
    }
  });
}

function toSqliteValues(values: unknown[]): unknown[] {
  for (let i = 0; i < values.length; i++) values[i] = sqliteValue(values[i]);
  return values;
}

function sqliteRows<T>(conn: Database, sql: string, bindings: readonly unknown[]): T[] {
  const stmt = prepared(conn, sql);
  const args = bindings.map(sqliteValue);
  return (stmt.reader ? stmt.all(...args) : (stmt.run(...args), [])) as T[];
}

function sqliteChanges(conn: Database, sql: string, bindings: readonly unknown[]): number {
  return prepared(conn, sql).run(...bindings.map(sqliteValue)).changes;
}

/**
 * Runs `fn` on a SQLite connection. Inside a transaction the result is returned at once (and a
 * failure thrown at once): SQLite statements never wait, so the hot path of a composite (hundreds of
 * statements on one connection) pays no acquire and no promise at all.
 */
function onSqlite<T>(h: DbHandle, fn: (conn: Database) => T): MaybePromise<T> {
  if (!(h instanceof SqliteTransaction)) return withConnection<Database, T>(h as KnexHandle, fn);
  // Inserts queued by write-behind run first: every statement sees them.
  h.flush();
  return fn(h.conn);
}

// These return the result at once inside a SQLite transaction, and otherwise the driver's promise as
// it is (no async wrapper): on the hot path each wrapper is one more promise and one more turn of the
// microtask queue per statement.

/** Returns every row of a SELECT (or a statement with RETURNING). Placeholders are `?`. */
export function queryRows<T>(h: DbHandle, sql: string, bindings: readonly unknown[] = []): MaybePromise<T[]> {
  if (isSqlite(h)) return onSqlite(h, (conn) => sqliteRows<T>(conn, sql, bindings));
  return pgQuery(h as PgHandle, sql, bindings).then((r) => r.rows as T[]);
}

export function queryFirst<T>(
  h: DbHandle,
  sql: string,
  bindings: readonly unknown[] = [],
): MaybePromise<T | undefined> {
  if (isSqlite(h)) return onSqlite(h, (conn) => sqliteRows<T>(conn, sql, bindings)[0]);
  return pgQuery(h as PgHandle, sql, bindings).then((r) => r.rows[0] as T | undefined);
}

/**
 * Runs a query builder's SELECT whose text varies from call to call (filters, sort): on the
 * transaction's SQLite connection when there is one, otherwise through knex. Such statements are not
 * kept prepared, so arbitrary filter combinations cannot grow a statement cache without bound.
 */
export async function selectRows<T>(h: DbHandle, qb: Knex.QueryBuilder): Promise<T[]> {
  if (h instanceof PgTransaction) {
    await flushWrites(h);
    await h.begun();
    const { sql, bindings } = qb.toSQL().toNative();
    return (await h.conn.query(sql, bindings as unknown[])).rows as T[];
  }
  if (!(h instanceof SqliteTransaction)) {
    await flushWrites(h);
    return (await qb) as T[];
  }
  const { sql, bindings } = qb.toSQL();
  h.flush();
  return h.conn.prepare(sql).all(...bindings.map(sqliteValue)) as T[];
}

/** Runs a write and returns the number of rows it changed. */
export function execute(h: DbHandle, sql: string, bindings: readonly unknown[] = []): MaybePromise<number> {
  if (isSqlite(h)) return onSqlite(h, (conn) => sqliteChanges(conn, sql, bindings));
  return pgQuery(h as PgHandle, sql, bindings).then((r) => r.rowCount ?? 0);
}

/**
 * Runs an INSERT, or queues it when `h` is a transaction writing behind (see `writeBehind`). Only
 * for single-row inserts whose ids are known ahead: nothing is read back. The caller hands over a
 * fresh array, which a queued insert keeps: SQLite's values are converted in it, in place (no second
 * array per row), and PostgreSQL converts them when the batch runs.
 */
export function insert(h: DbHandle, sql: string, bindings: unknown[]): MaybePromise<void> {
  if (h instanceof SqliteTransaction ? h.writes.push(sql, toSqliteValues(bindings)) : queueInsert(h, sql, bindings))
    return;
  const changed = execute(h, sql, bindings);
  return changed instanceof Promise ? changed.then(() => undefined) : undefined;
}

/**
 * From now on, inserts through `insert` on the transaction `h` wait and run together, just before
 * its next other statement or at `flushWrites`; one that fails is attributed to `owner`
 * (`QueuedWriteFailed`). On SQLite they run one by one, back to back (see
 * `SqliteTransaction.writes`); on PostgreSQL as multi-row INSERTs, whose failure names no row
 * (`BatchedWriteFailed`: run the work again without write-behind). Outside a transaction, nothing.
 */
export function writeBehind(h: DbHandle, owner: number): void {
  if (h instanceof SqliteTransaction) h.writes.start(owner);
  else if ((h as PgTransaction).isTransaction) startWriteBehind(h, owner);
}

/** Runs what write-behind queued on `h`: at once on SQLite, a promise on PostgreSQL. */
export function flushWrites(h: DbHandle): MaybePromise<void> {
  if (h instanceof SqliteTransaction) return h.flush();
  return hasQueued(h) ? flushPg(h) : undefined;
}

/** All is queued: SQLite writes it now; PostgreSQL with COMMIT, where a failure is `BatchedWriteFailed`. */
export function flushWritesBeforeCommit(h: DbHandle): MaybePromise<void> {
  if (!(h instanceof PgTransaction)) return flushWrites(h);
  h.writesAtCommit = true;
}

/** Dialect → key → SQL text. */
const compiled = new Map<string, Map<string, string>>();

/**
 * Compiles a knex query builder to SQL text once per dialect and key, so hot statements are
 * written with knex but never rebuilt per request. Bindings are supplied at run time.
 */
export function compileOnce(h: DbHandle, key: string, build: (k: KnexHandle) => Knex.QueryBuilder): string {
  const dialect = h.client.config.client as string;
  let byKey = compiled.get(dialect);
  if (!byKey) compiled.set(dialect, (byKey = new Map()));
  let sql = byKey.get(key);
  if (sql === undefined) {
    sql = build(knexOf(h)).toSQL().sql;
    byKey.set(key, sql);
  }
  return sql;
}
