// Owns making users outside the API: the first admin, created at start on a database with no users
// (ADMIN_USERNAME / ADMIN_PASSWORD), and the rows the admin command line (src/cli/admin.ts) writes.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { reserveIds } from '../db/sequences';
import { nowIso } from '../db/dialect';
import { hashPassword } from '../model/passwords';

/** A password to print once: 24 characters from 18 random bytes. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export interface NewUser {
  username: string;
  displayName: string;
  roles: string[];
  password: string;
}

/** Inserts one active user with a hashed password, in its own transaction. */
export async function insertUser(knex: Knex, user: NewUser): Promise<void> {
  const hash = await hashPassword(user.password);
  await knex.transaction(async (trx) => {
    const [id] = await reserveIds(trx, 'users', 1);
    const now = nowIso();
    await trx('users').insert({
      id,
      username: user.username,
      display_name: user.displayName,
      roles: JSON.stringify(user.roles),
      active: true,
      password_hash: hash,
      checksum: 0,
      create_time: now,
      update_time: now,
    });
  });
}

export interface AdminOutcome {
  created: boolean;
  /** Set when no ADMIN_PASSWORD was given: print it once. */
  generatedPassword?: string;
  /** ADMIN_PASSWORD was given, but the database already had users, so it changed nothing. */
  passwordNotUsed?: boolean;
}

/** Creates the admin when there are no users. */
export async function ensureAdmin(knex: Knex, username: string, password: string | undefined): Promise<AdminOutcome> {
  const [{ n }] = await knex('users').count({ n: '*' });
  if (Number(n) > 0) return { created: false, passwordNotUsed: password !== undefined };
  const generated = password === undefined ? generatePassword() : undefined;
  await insertUser(knex, {
    username,
    displayName: 'Administrator',
    roles: ['admin'],
    password: password ?? (generated as string),
  });
  return { created: true, generatedPassword: generated };
}
