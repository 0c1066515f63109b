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

/** The first line of what went wrong, with the driver's code: never a stack, and no bound values. */
export function reason(err: unknown): string {
  const code = dbErrorCode(err);
  // The pool re-wraps a failed connect, so its message may start with the inner error's name.
  const message = (err instanceof Error ? err.message.split('\n')[0] : String(err)).replace(/^\w*Error: /, '');
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * The default location's folder (./data) is created; a folder named in DATABASE_URL must exist, so a
 * typo never silently makes a new, empty database somewhere else. A folder in place of the file is
 * refused here, in words, instead of by the driver.
 */
function checkSqlitePath(database: { filename: string; createFolder?: boolean }, where: string): void {
  const folder = path.dirname(database.filename);
  try {
    if (database.createFolder) fs.mkdirSync(folder, { recursive: true });
    else {
      const stat = fs.statSync(folder, { throwIfNoEntry: false });
      if (!stat)
        throw new DatabaseUnreachableError(
          `cannot open the database at ${where}: the folder ${folder} does not exist (create it, or fix DATABASE_URL)`,
        );
      if (!stat.isDirectory())
        throw new DatabaseUnreachableError(`cannot open the database at ${where}: ${folder} is not a folder`);
    }
    if (fs.statSync(database.filename, { throwIfNoEntry: false })?.isDirectory()) {
      throw new DatabaseUnreachableError(`cannot open the database at ${where}: that is a folder; name a file in it`);
    }
  } catch (err) {
    if (err instanceof DatabaseUnreachableError) throw err;
    throw new DatabaseUnreachableError(`cannot open the database at ${where}: ${reason(err)}`);
  }
}

/**
 * Opens the pool and runs `select 1`; rejects with DatabaseUnreachableError (the pool closed) if that
 * fails. A SQLite file is locked for this process first (DatabaseLockedError when another holds it),
 * unless `lock` is false: a short-lived command that changes a row or two in its own transaction (the
 * admin CLI) may run beside the server that holds the lock.
 */
export async function connectDatabase(
  config: Pick<Config, 'database' | 'db'>,
  opts: { lock?: boolean } = {},
): Promise<Knex> {
  const where = describeDatabase(config.database);
  if (config.database.kind === 'sqlite' && config.database.filename !== ':memory:') {
    checkSqlitePath(config.database, where);
    // Before the file is opened: a second process must not touch it at all.
    if (opts.lock !== false) lockSqliteFile(config.database.filename);
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
