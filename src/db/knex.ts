// Owns the knex instance: which driver, pool and per-connection settings for each database kind.
import knexFactory, { Knex } from 'knex';
import type { types as PgTypes } from 'pg';
import { DB_DEFAULTS, type Config, type DatabaseConfig } from '../config';

export type DbOptions = Pick<Config['db'], 'poolMax' | 'statementTimeoutMs' | 'connectTimeoutMs'>;

/** SQLite as a server needs: WAL (readers never block the writer), a busy timeout, foreign keys, on every connection. */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'busy_timeout = 10000',
  'foreign_keys = ON',
];

export function knexConfig(database: DatabaseConfig, options: Partial<DbOptions> = {}): Knex.Config {
  const opts = { ...DB_DEFAULTS, ...options };
  if (database.kind === 'sqlite') {
    return {
      client: 'better-sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      // Never put bound values into an error message (they could be secrets).
      compileSqlOnError: false,
      log: QUIET_LOG,
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
      types: { getTypeParser: pgTypeParser },
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: opts.statementTimeoutMs || undefined,
      application_name: 'composite-api-server',
    },
    compileSqlOnError: false,
    log: QUIET_LOG,
    pool: { min: 0, max: opts.poolMax, acquireTimeoutMillis: 120000 },
    acquireConnectionTimeout: 120000,
  };
}

/**
 * knex would print pool warnings (with stack traces and connection details) straight to the console.
 * Every such failure also rejects the query that hit it, and that is where it is handled and reported.
 */
const QUIET_LOG = { warn() {}, error() {}, debug() {}, deprecate() {} };

const PG_INT8 = 20;

/**
 * bigint columns (ids) and COUNT(*) arrive as numbers, as they do from SQLite, instead of pg's
 * default strings. Ids and counts stay far below 2^53, where a JavaScript number is exact.
 */
function pgTypeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === PG_INT8 && format !== 'binary') return (value: string) => Number(value);
  return pgTypes().getTypeParser(oid, format as 'text');
}

/** pg is loaded only on PostgreSQL (knex loads its driver the same way): a SQLite server never pays for it at start. */
function pgTypes(): typeof PgTypes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when the database is PostgreSQL
  return (require('pg') as typeof import('pg')).types;
}

export function createKnex(database: DatabaseConfig, options: Partial<DbOptions> = {}): Knex {
  return knexFactory(knexConfig(database, options));
}

export function isSqlite(db: Pick<Knex, 'client'>): boolean {
  return db.client.config.client === 'better-sqlite3';
}
