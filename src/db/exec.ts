// Owns the hot path to the driver: prepared statements compiled once per connection and reused,
// inside whatever knex transaction (or pool) the caller hands in.
import type { Knex } from 'knex';
import type { Database, Statement } from 'better-sqlite3';
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

/** Runs `fn` with the raw better-sqlite3 connection the handle owns (the transaction's, or one from the pool). */
async function withSqlite<T>(h: DbHandle, fn: (conn: Database) => T): Promise<T> {
  const client = h.client as { acquireConnection(): Promise<Database>; releaseConnection(c: Database): Promise<unknown> };
  const conn = await client.acquireConnection();
  try {
    return fn(conn);
  } finally {
    // Inside a transaction release is a no-op; outside it returns the connection to the pool.
    await client.releaseConnection(conn);
  }
}

/** Returns every row of a SELECT (or a statement with RETURNING). Placeholders are `?`. */
export async function queryRows<T>(h: DbHandle, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  if (isSqlite(h)) {
    return withSqlite(h, (conn) => {
      const stmt = prepared(conn, sql);
      const args = bindings.map(sqliteValue);
      return (stmt.reader ? stmt.all(...args) : (stmt.run(...args), [])) as T[];
    });
  }
  const result = await h.raw(sql, bindings as Knex.RawBinding[]);
  return result.rows as T[];
}

export async function queryFirst<T>(h: DbHandle, sql: string, bindings: readonly unknown[] = []): Promise<T | undefined> {
  const rows = await queryRows<T>(h, sql, bindings);
  return rows[0];
}

/** Runs a write and returns the number of rows it changed. */
export async function execute(h: DbHandle, sql: string, bindings: readonly unknown[] = []): Promise<number> {
  if (isSqlite(h)) {
    return withSqlite(h, (conn) => prepared(conn, sql).run(...bindings.map(sqliteValue)).changes);
  }
  const result = await h.raw(sql, bindings as Knex.RawBinding[]);
  return result.rowCount ?? 0;
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
