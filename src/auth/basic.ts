// Owns HTTP Basic authentication against the users table, with a cache of verified credentials so
// the slow hash runs once per password, not once per request.
import { hash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Caller, Role } from '../api/operation';
import { NUL, nulRefused } from '../api/nul';
import { verifyPassword } from '../model/passwords';
import { UserLookup, type UserRow } from './users';

const CACHE_LIMIT = 1000;

export function parseBasic(header: string): { username: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]{1,2000})$/.exec(header.trim());
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function callerFromRow(row: Pick<UserRow, 'id' | 'username' | 'display_name' | 'roles'>): Caller {
  return {
    id: Number(row.id),
    username: row.username,
    displayName: row.display_name ?? row.username,
    roles: JSON.parse(row.roles) as Role[],
  };
}

export class BasicAuthenticator {
  /** (username, sha256(password)) → the stored hash that password was verified against. */
  private readonly verified = new Map<string, string>();
  /**
   * Verifications running now, by key and stored hash: concurrent requests with the same credentials
   * share one. Each scrypt takes 16 MiB of native memory on a libuv thread (which glibc then keeps in
   * that thread's arena) and tens of milliseconds of CPU; a burst of clients arriving with one new
   * password ran one per request.
   */
  private readonly running = new Map<string, Promise<boolean>>();

  private readonly users: UserLookup;

  constructor(knex: Knex) {
    this.users = new UserLookup(knex);
  }

  /** The caller, or undefined for unknown users, wrong passwords and inactive accounts. */
  async authenticate(header: string): Promise<Caller | undefined> {
    const creds = parseBasic(header);
    if (!creds || creds.username.length > 64 || creds.password.length > 256) return undefined;
    // Never a valid account (no stored text holds U+0000): refused before the database is asked.
    if (creds.username.includes(NUL) || creds.password.includes(NUL)) throw nulRefused('The Basic credentials');
    const found = this.users.find(creds.username);
    const row = found instanceof Promise ? await found : found;
    if (!row || !row.active) return undefined;
    const key = `${creds.username}\u0000${hash('sha256', creds.password, 'base64')}`;
    // A changed password changes the stored hash, so a cached verification of the old one no longer matches.
    if (this.verified.get(key) !== row.password_hash) {
      if (!(await this.verifyOnce(key, creds.password, row.password_hash))) return undefined;
      if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(key, row.password_hash);
    }
    return callerFromRow(row);
  }

  private verifyOnce(key: string, password: string, hash: string): Promise<boolean> {
    const id = `${key}\u0000${hash}`;
    let check = this.running.get(id);
    if (!check) {
      check = verifyPassword(password, hash).finally(() => this.running.delete(id));
      this.running.set(id, check);
    }
    return check;
  }
}
