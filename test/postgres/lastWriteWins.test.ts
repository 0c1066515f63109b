// Writes without a client checksum are last-write-wins: losing a race to a concurrent writer is not
// the client's conflict, so the transaction is retried on a fresh read instead of answering 409.
import type { Client } from 'pg';
import type { TestApp } from '../helpers/testApp';
import { lockWaiters, send, useTwoInstances, type Instance } from './helpers';

const env = useTwoInstances();
let t: TestApp;
let b: Instance;
let locker: Client;
beforeAll(() => ({ t, b, locker } = env));

async function raceOnHeldRow(
  id: string,
  run: () => Array<Promise<{ status: number; body: { userMessage?: string } }>>,
) {
  const numeric = Number(id.split(':')[1]);
  // Both instances read the row, then queue on its lock: the second UPDATE finds the checksum moved.
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [numeric]);
  const pending = run();
  await lockWaiters(locker, 2);
  await locker.query('ROLLBACK');
  return { results: await Promise.all(pending), row: await t.knex('activities').where({ id: numeric }).first() };
}

test('two PATCHes without a checksum at once: both 200, both applied, checksum 2', async () => {
  const created = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'LWW' } } });
  const id = created.body.data.attributes.id;
  const { results, row } = await raceOnHeldRow(id, () => [
    send(
      t.http
        .patch(`/rest/common/v1/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: 'from A' } } }),
    ),
    send(
      b.http
        .patch(`/rest/common/v1/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { description: 'from B' } } }),
    ),
  ]);
  expect(results.map((r) => r.status)).toEqual([200, 200]);
  expect(row).toMatchObject({ subject: 'from A', description: 'from B', checksum: 2 });
});

test('two completes without a checksum at once: one completes, the retried one sees it is already complete (400, not 409)', async () => {
  const created = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'Complete once' } } });
  const id = created.body.data.attributes.id;
  const { results, row } = await raceOnHeldRow(id, () => [
    send(t.http.post(`/rest/common/v1/activities/${id}/complete`).set('Authorization', t.auth('user'))),
    send(b.http.post(`/rest/common/v1/activities/${id}/complete`).set('Authorization', t.auth('user'))),
  ]);
  expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  expect(results.find((r) => r.status === 400)!.body.userMessage).toMatch(/already complete/);
  expect(row).toMatchObject({ status: 'complete', checksum: 1 });
});
