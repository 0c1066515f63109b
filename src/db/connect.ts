// Owns the first contact with the database at start: open the pool, prove one round trip works, or
// fail with a message an operator can act on (where, and what the driver said — never a password).
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Config, DatabaseConfig } from '../config';
import { dbErrorCode } from './errors';
import { createKnex } from './knex';
import { lockSqliteFile } from './sqliteLock';

export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** Where the database is, safe to print: the URL without user name or password, or the SQLite file. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return `sqlite:${database.filename}`;
  const url = new URL(database.url);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}

function reason(err: unknown): string {
  const code = dbErrorCode(err);
  // The pool re-wraps a failed connect, so its message may start with the inner error's name.
  const message = (err instanceof Error ? err.message.split('\n')[0] : String(err)).replace(/^\w*Error: /, '');
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Opens the pool and runs `select 1`; rejects with DatabaseUnreachableError (the pool closed) if that
 * fails. A SQLite file is locked for this process first (DatabaseLockedError when another holds it).
 */
export async function connectDatabase(config: Pick<Config, 'database' | 'db'>): Promise<Knex> {
  const where = describeDatabase(config.database);
  if (config.database.kind === 'sqlite' && config.database.filename !== ':memory:') {
    try {
      fs.mkdirSync(path.dirname(config.database.filename), { recursive: true });
    } catch (err) {
      throw new DatabaseUnreachableError(`cannot open the database at ${where}: ${reason(err)}`);
    }
    // Before the file is opened: a second process must not touch it at all.
    lockSqliteFile(config.database.filename);
  }
  const knex = createKnex(config.database, config.db);
  try {
    await knex.raw('select 1');
  } catch (err) {
    await knex.destroy();
    throw new DatabaseUnreachableError(`cannot reach the database at ${where}: ${reason(err)}`);
  }
  return knex;
}
