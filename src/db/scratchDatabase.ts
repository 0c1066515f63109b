// Owns scratch databases for tests, the benchmark and tools: a fresh, empty SQLite file in a temporary
// folder, or a PostgreSQL database created under a unique name on a server and dropped (FORCE) after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface FreshDatabase {
  kind: 'sqlite' | 'postgres';
  /** DATABASE_URL for a server on it. */
  url: string;
  drop(): Promise<void>;
}

/** One statement on a short-lived connection to the server's maintenance database. */
async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * DROP DATABASE … WITH (FORCE). On PostgreSQL 15 it asks for an immediate checkpoint, and a checkpoint
 * fails for the whole cluster while any database's files cannot be written (a test filling a
 * tablespace's disk, an operator's full volume). That is retried for up to `patienceMs` rather than
 * leaving the database behind; any other error is thrown at once.
 */
export async function dropPostgresDatabase(serverUrl: string, name: string, patienceMs = 20_000): Promise<void> {
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    try {
      await onServer(serverUrl, `DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
      return;
    } catch (err) {
      if (!/checkpoint request failed/.test((err as Error).message) || Date.now() >= giveUpAt) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** The URL of another database on the same server as `serverUrl`. */
export function databaseUrlOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new, empty PostgreSQL database on the server of `serverUrl`, named `prefix` + random hex. */
export async function freshPostgresDatabase(serverUrl: string, prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE "${name}"`);
  return {
    kind: 'postgres',
    url: databaseUrlOn(serverUrl, name),
    drop: () => dropPostgresDatabase(serverUrl, name),
  };
}

/** A new SQLite file `filename` in a temporary folder named `prefix`…, removed with the folder. */
export function freshSqliteDatabase(prefix: string, filename: string): FreshDatabase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    kind: 'sqlite',
    url: `sqlite:${path.join(dir, filename)}`,
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
