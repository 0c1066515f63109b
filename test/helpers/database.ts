// Owns the database a test file runs on: a fresh SQLite file by default, or, when TEST_DATABASE_URL
// points at PostgreSQL, a fresh database created there and dropped afterwards.
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import {
  databaseUrlOn,
  dropPostgresDatabase,
  freshPostgresDatabase as freshPostgresOn,
  freshSqliteDatabase as freshSqliteIn,
  type FreshDatabase,
} from '../../src/db/scratchDatabase';

export type { FreshDatabase };

/** Set by the jest global setup so every database of one run shares a prefix (workers inherit it). */
const RUN_VARIABLE = 'COMPOSITE_TEST_RUN_ID';

export function testDatabaseKind(): 'sqlite' | 'postgres' {
  return /^postgres(ql)?:\/\//.test(process.env.TEST_DATABASE_URL ?? '') ? 'postgres' : 'sqlite';
}

function runPrefix(): string {
  return `composite_test_${process.env[RUN_VARIABLE] ?? 'x'}_`;
}

/** A short-lived connection to the server's maintenance database (TEST_DATABASE_URL itself). */
async function withServer<T>(fn: (k: Knex) => Promise<T>): Promise<T> {
  const k = knexFactory({ client: 'pg', connection: process.env.TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
  try {
    return await fn(k);
  } finally {
    await k.destroy();
  }
}

export function startDatabaseRun(): void {
  process.env[RUN_VARIABLE] = randomBytes(4).toString('hex');
}

/** Drops every database of this run that is still there (a test file that crashed before its afterAll). */
export async function dropRunDatabases(): Promise<void> {
  if (testDatabaseKind() !== 'postgres' || !process.env[RUN_VARIABLE]) return;
  const rows = await withServer(async (k) => {
    const result = await k.raw<{ rows: Array<{ datname: string }> }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, ?)',
      [runPrefix()],
    );
    return result.rows;
  });
  for (const { datname } of rows) await dropPostgresDatabase(process.env.TEST_DATABASE_URL as string, datname);
}

/** The URL of another database on the same server as TEST_DATABASE_URL. */
export function postgresUrl(name: string): string {
  return databaseUrlOn(process.env.TEST_DATABASE_URL as string, name);
}

/** A new, empty PostgreSQL database with a name unique across parallel files and runs. */
export function freshPostgresDatabase(): Promise<FreshDatabase> {
  return freshPostgresOn(process.env.TEST_DATABASE_URL as string, runPrefix());
}

export function freshSqliteDatabase(): FreshDatabase {
  return freshSqliteIn('composite-test-', 'test.db');
}

export async function freshDatabase(): Promise<FreshDatabase> {
  return testDatabaseKind() === 'postgres' ? freshPostgresDatabase() : freshSqliteDatabase();
}
