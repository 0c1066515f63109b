// Write-behind on SQLite at the transaction level (the composite tests cover it over HTTP): queued
// inserts run before the next other statement and at the commit, and a transaction that fails for
// any reason leaves none of them behind — not even through the durable work that commits on its own
// after the rollback.
import type { Knex } from 'knex';
import { loadConfig } from '../../src/config';
import { connectDatabase } from '../../src/db/connect';
import { migrateLatest } from '../../src/schema/migrate';
import { compileOnce, insert, queryFirst, writeBehind, type DbHandle } from '../../src/db/exec';
import { inTransaction } from '../../src/db/transaction';
import { tempSqliteUrl } from '../helpers/testApp';

let knex: Knex;
beforeAll(async () => {
  knex = await connectDatabase(loadConfig({ DATABASE_URL: tempSqliteUrl() }));
  await migrateLatest(knex);
});
afterAll(async () => knex.destroy());

const insertActivity = (h: DbHandle, id: number, subject: string) => {
  const sql = compileOnce(h, 'test:activity', (k) =>
    k('activities').insert({
      checksum: 0,
      create_time: '',
      id: 0,
      priority: '',
      status: '',
      subject: '',
      update_time: '',
    }),
  );
  return insert(h, sql, [0, 'now', id, 'normal', 'open', subject, 'now']);
};
const subjectOf = async (h: DbHandle, id: number) =>
  (await queryFirst<{ subject: string }>(h, 'SELECT subject FROM activities WHERE id = ?', [id]))?.subject;
const counter = async () => Number((await knex('id_sequences').where({ name: 'activities' }).first()).next_id);

test('a queued insert is seen by the next read in the transaction and committed with it', async () => {
  const seen = await inTransaction(
    knex,
    async (trx) => {
      writeBehind(trx, 0);
      await insertActivity(trx, 900001, 'queued');
      return subjectOf(trx, 900001);
    },
    { retries: 0 },
  );
  expect(seen).toBe('queued');
  expect(await subjectOf(knex, 900001)).toBe('queued');
});

test('an unexpected failure with inserts still queued rolls them back, and the durable work after the rollback does not commit them', async () => {
  const before = await counter();
  const durable = {
    run: async (h: DbHandle) =>
      void (await queryFirst(h, 'UPDATE id_sequences SET next_id = next_id + 5 WHERE name = ? RETURNING next_id', [
        'activities',
      ])),
    keep: async (h: DbHandle) =>
      void (await queryFirst(h, 'UPDATE id_sequences SET next_id = MAX(next_id, ?) WHERE name = ? RETURNING next_id', [
        before + 5,
        'activities',
      ])),
  };
  await expect(
    inTransaction(
      knex,
      async (trx) => {
        writeBehind(trx, 0);
        await insertActivity(trx, 900002, 'never committed');
        throw new TypeError('a bug in a handler');
      },
      { retries: 0, durable },
    ),
  ).rejects.toThrow('a bug in a handler');
  expect(await subjectOf(knex, 900002)).toBeUndefined();
  // The durable work did hold: the counter moved past the reserved ids.
  expect(await counter()).toBe(before + 5);
});
