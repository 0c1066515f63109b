// Owns the hot path to the driver: prepared statements compiled once per connection and reused,
// inside whatever knex transaction (or pool) the caller hands in.
import type { Knex } from 'knex';
import type { Database, Statement } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { ClientBase, QueryResult } from 'pg';
import { isSqlite } from './knex';

export type DbHandle = Knex | Knex.Transaction;

const statementCache = new WeakMap<Database, Map<string, Statement>>();

function prepared(conn: Database, sql: string): Statement {
  let cache = statementCache.get(conn);
  if (!cache) {
    cache = new Map();
    statementCache.set(conn, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = conn.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}

function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** A transaction's one connection, kept after its first statement: later statements skip acquire/release. */
const transactionConnections = new WeakMap<object, unknown>();

/** Runs `fn` with the raw driver connection the handle owns (the transaction's, or one from the pool). */
async function withConnection<C, T>(h: DbHandle, fn: (conn: C) => T | Promise<T>): Promise<T> {
  const client = h.client as { acquireConnection(): Promise<C>; releaseConnection(c: C): Promise<unknown> };
  if ((h as Knex.Transaction).isTransaction) {
    // Inside a transaction acquire always yields the same connection and release is a no-op.
    let held = transactionConnections.get(client) as C | undefined;
    if (held === undefined) {
      held = await client.acquireConnection();
      transactionConnections.set(client, held);
    }
    return fn(held);
  }
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
    if ((err as { code?: unknown }).code === STALE_PLAN) pgGenerations.set(conn, generation + 1);
    throw err;
  }
}

function pgQuery(h: DbHandle, sql: string, bindings: readonly unknown[]): Promise<QueryResult> {
  const stmt = pgStatement(sql);
  const values = bindings.map((v) => (v === undefined ? null : v));
  return withConnection<ClientBase, QueryResult>(h, async (conn) => {
    try {
      return await pgRun(conn, stmt, values);
    } catch (err) {
      // Outside a transaction nothing is lost by asking again at once; inside one, the error aborted
      // the transaction and the whole of it is retried (src/db/transaction.ts).
      if ((err as { code?: unknown }).code !== STALE_PLAN || (h as Knex.Transaction).isTransaction) throw err;
      return pgRun(conn, stmt, values);
    }
  });
}

/** Returns every row of a SELECT (or a statement with RETURNING). Placeholders are `?`. */
export async function queryRows<T>(h: DbHandle, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  if (isSqlite(h)) {
    return withConnection<Database, T[]>(h, (conn) => {
      const stmt = prepared(conn, sql);
      const args = bindings.map(sqliteValue);
      return (stmt.reader ? stmt.all(...args) : (stmt.run(...args), [])) as T[];
    });
  }
  return (await pgQuery(h, sql, bindings)).rows as T[];
}

export async function queryFirst<T>(h: DbHandle, sql: string, bindings: readonly unknown[] = []): Promise<T | undefined> {
  const rows = await queryRows<T>(h, sql, bindings);
  return rows[0];
}

/** Runs a write and returns the number of rows it changed. */
export async function execute(h: DbHandle, sql: string, bindings: readonly unknown[] = []): Promise<number> {
  if (isSqlite(h)) {
    return withConnection<Database, number>(h, (conn) => prepared(conn, sql).run(...bindings.map(sqliteValue)).changes);
  }
  return (await pgQuery(h, sql, bindings)).rowCount ?? 0;
}

const compiled = new Map<string, string>();

/**
 * Compiles a knex query builder to SQL text once per dialect and key, so hot statements are
 * written with knex but never rebuilt per request. Bindings are supplied at run time.
 */
export function compileOnce(h: DbHandle, key: string, build: (k: DbHandle) => Knex.QueryBuilder): string {
  const cacheKey = `${h.client.config.client}:${key}`;
  let sql = compiled.get(cacheKey);
  if (sql === undefined) {
    sql = build(h).toSQL().sql;
    compiled.set(cacheKey, sql);
  }
  return sql;
}
