// Owns reading the user an Authorization header names. On a SQLite file the read runs synchronously on
// a read connection of its own: in WAL mode it sees every commit at once — of this process or of another
// (the admin command line) — and never queues behind a writer, and a request pays no pool acquire and
// no promise for it. Elsewhere (PostgreSQL, an in-memory SQLite) it goes through the pool.
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { compileOnce, queryFirst } from '../db/exec';
import { isSqlite } from '../db/knex';
import { onceMoreIfConnectionLost } from '../db/transaction';

export interface UserRow {
  id: number;
  username: string;
  display_name: string | null;
  roles: string;
  active: number | boolean;
  password_hash: string;
}

function userByNameSql(knex: Knex): string {
  return compileOnce(knex, 'auth:userByName', (k) =>
    k('users').select('id', 'username', 'display_name', 'roles', 'active', 'password_hash').where('username', ''),
  );
}

export async function findUserByUsername(knex: Knex, username: string): Promise<UserRow | undefined> {
  const sql = userByNameSql(knex);
  return onceMoreIfConnectionLost(() => queryFirst<UserRow>(knex, sql, [username]));
}

interface PoolEvents {
  on(event: 'poolDestroyRequest', listener: () => void): void;
}

/** The SQLite file behind `knex`, or undefined when there is none another connection could open. */
function sqliteFile(knex: Knex): string | undefined {
  if (!isSqlite(knex)) return undefined;
  const filename = (knex.client.config.connection as { filename?: string } | undefined)?.filename;
  if (!filename || filename === ':memory:' || filename.startsWith('file:')) return undefined;
  return filename;
}

export class UserLookup {
  /** undefined: not opened yet; null: none (the pool answers). */
  private statement: Database.Statement | null | undefined;

  constructor(private readonly knex: Knex) {}

  find(username: string): UserRow | undefined | Promise<UserRow | undefined> {
    const statement = this.statement === undefined ? this.open() : this.statement;
    if (statement) return statement.get(username) as UserRow | undefined;
    return findUserByUsername(this.knex, username);
  }

  private open(): Database.Statement | null {
    this.statement = null;
    const filename = sqliteFile(this.knex);
    const pool = (this.knex.client as { pool?: PoolEvents }).pool;
    if (!filename || !pool) return null;
    let conn: Database.Database | undefined;
    try {
      conn = new Database(filename, { fileMustExist: true });
      conn.pragma('busy_timeout = 10000');
      // Reads only, whatever a later change here might try.
      conn.pragma('query_only = ON');
      this.statement = conn.prepare(userByNameSql(this.knex));
    } catch {
      // A file another connection cannot open: the pool's connection answers, as it does elsewhere.
      conn?.close();
      return null;
    }
    const opened = conn;
    // Closed with the pool (the server's shutdown, a test's app): its file may be removed after that.
    pool.on('poolDestroyRequest', () => {
      this.statement = null;
      opened.close();
    });
    return this.statement;
  }
}
