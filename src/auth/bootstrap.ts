// Owns the first admin: created on a database with no users, from ADMIN_USERNAME / ADMIN_PASSWORD.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { reserveIds } from '../db/ids';
import { nowIso } from '../db/dialect';
import { hashPassword } from './passwords';

/** Creates the admin when there are no users. Returns the generated password, if one was generated. */
export async function ensureAdmin(knex: Knex, username: string, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
  const [{ n }] = await knex('users').count({ n: '*' });
  if (Number(n) > 0) return { created: false };
  const generated = password === undefined ? randomBytes(18).toString('base64url') : undefined;
  const hash = await hashPassword(password ?? (generated as string));
  await knex.transaction(async (trx) => {
    const [id] = await reserveIds(trx, 'users', 1);
    const now = nowIso();
    await trx('users').insert({ id, username, display_name: 'Administrator', roles: JSON.stringify(['admin']), active: true, password_hash: hash, checksum: 0, create_time: now, update_time: now });
  });
  return { created: true, generatedPassword: generated };
}
