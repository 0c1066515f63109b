// Owns GW-DBTransaction-ID: a composite that committed with an id is recorded in its own transaction,
// and the id sent again is refused (AlreadyExecutedException) before anything runs.
import type { Knex } from 'knex';
import { compileOnce, execute, queryFirst, type DbHandle } from '../db/exec';
import { nowIso } from '../db/dialect';
import { isUniqueViolation } from '../db/errors';
import { errors } from '../errors';

export async function recordTransactionId(trx: DbHandle, id: string): Promise<void> {
  // knex orders insert columns by name: create_time, id.
  const sql = compileOnce(trx, 'composite:recordTx', (k) =>
    k('composite_transactions').insert({ create_time: '', id: '' }),
  );
  try {
    await execute(trx, sql, [nowIso(), id]);
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.alreadyExecuted(id);
    throw err;
  }
}

export async function alreadyExecuted(knex: Knex, id: string): Promise<boolean> {
  const sql = compileOnce(knex, 'composite:findTx', (k) => k('composite_transactions').select('id').where('id', ''));
  return (await queryFirst(knex, sql, [id])) !== undefined;
}
