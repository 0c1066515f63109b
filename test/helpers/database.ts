// Owns the database a test file runs on: a fresh SQLite file by default, or, when TEST_DATABASE_URL
// points at PostgreSQL, a fresh database created there and dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';

export interface FreshDatabase {
  url: string;
  kind: 'sqlite' | 'postgres';
  drop(): Promise<void>;
}

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
  await withServer(async (k) => {
    const { rows } = await k.raw<{ rows: Array<{ datname: string }> }>('SELECT datname FROM pg_database WHERE starts_with(datname, ?)', [runPrefix()]);
    for (const { datname } of rows) await k.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [datname]);
  });
}

/** The URL of another database on the same server as TEST_DATABASE_URL. */
export function postgresUrl(name: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL as string);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new, empty PostgreSQL database with a name unique across parallel files and runs. */
export async function freshPostgresDatabase(): Promise<FreshDatabase> {
  const name = `${runPrefix()}${randomBytes(6).toString('hex')}`;
  await withServer((k) => k.raw('CREATE DATABASE ??', [name]));
  return {
    url: postgresUrl(name),
    kind: 'postgres',
    drop: () => withServer(async (k) => void (await k.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]))),
  };
}

export function freshSqliteDatabase(): FreshDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-test-'));
  return {
    url: `sqlite:${path.join(dir, 'test.db')}`,
    kind: 'sqlite',
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function freshDatabase(): Promise<FreshDatabase> {
  return testDatabaseKind() === 'postgres' ? freshPostgresDatabase() : freshSqliteDatabase();
}
