// Owns the knex instance: which driver, pool and per-connection settings for each database kind.
import knexFactory, { Knex } from 'knex';
import type { DatabaseConfig } from '../config';

export interface DbOptions {
  poolMax: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

const DEFAULTS: DbOptions = { poolMax: 10, statementTimeoutMs: 30000, connectTimeoutMs: 5000 };

/** SQLite as a server needs: WAL (readers never block the writer), a busy timeout, foreign keys, on every connection. */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'busy_timeout = 10000',
  'foreign_keys = ON',
];

export function knexConfig(database: DatabaseConfig, options: Partial<DbOptions> = {}): Knex.Config {
  const opts = { ...DEFAULTS, ...options };
  if (database.kind === 'sqlite') {
    return {
      client: 'better-sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      // Never put bound values into an error message (they could be secrets).
      compileSqlOnError: false,
      // One connection: SQLite allows one writer; queuing in the pool replaces SQLITE_BUSY, and
      // the acquire time-out is generous so a burst of composites waits instead of failing.
      pool: {
        min: 1,
        max: 1,
        acquireTimeoutMillis: 120000,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            for (const pragma of SQLITE_PRAGMAS) conn.pragma(pragma);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    };
  }
  return {
    client: 'pg',
    connection: {
      connectionString: database.url,
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: opts.statementTimeoutMs || undefined,
      application_name: 'composite-api-server',
    },
    compileSqlOnError: false,
    pool: { min: 0, max: opts.poolMax, acquireTimeoutMillis: 120000 },
    acquireConnectionTimeout: 120000,
  };
}

export function createKnex(database: DatabaseConfig, options: Partial<DbOptions> = {}): Knex {
  return knexFactory(knexConfig(database, options));
}

export function isSqlite(db: Knex): boolean {
  return db.client.config.client === 'better-sqlite3';
}
