// Two app instances on one PostgreSQL database behave as one: checksums, idempotency and users all
// live in the database, so concurrent requests to different instances cannot both win.
import type { Client } from 'pg';
import { basic, type TestApp } from '../helpers/testApp';
import { lockWaiters, send, useTwoInstances, type Instance } from './helpers';

const env = useTwoInstances();
let t: TestApp;
let b: Instance;
let locker: Client;
beforeAll(() => ({ t, b, locker } = env));

async function createActivity(subject: string): Promise<string> {
  const res = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject } } });
  expect(res.status).toBe(201);
  return res.body.data.attributes.id;
}

test('PATCH with the same checksum on both instances at once: exactly one 200, the other 409, no lost update', async () => {
  const id = await createActivity('Race me');
  const numeric = Number(id.split(':')[1]);
  // Hold the row so both instances read checksum 0 and then queue on the UPDATE — the worst interleaving.
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [numeric]);
  const patch = (http: Instance['http'], subject: string) =>
    send(
      http
        .patch(`/rest/common/v1/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject }, checksum: '0' } }),
    );
  const fromA = patch(t.http, 'written by A');
  const fromB = patch(b.http, 'written by B');
  await lockWaiters(locker, 2);
  await locker.query('ROLLBACK');
  const results = await Promise.all([fromA, fromB]);

  expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  const winner = results.find((r) => r.status === 200)!;
  const loser = results.find((r) => r.status === 409)!;
  expect(loser.body.errorCode).toBe('gw.api.rest.exception.ChecksumMismatchException');
  const row = await t.knex('activities').where({ id: numeric }).first();
  expect(row.subject).toBe(winner.body.data.attributes.subject);
  expect(row.checksum).toBe(1);
  // The loser can see the winner's write from its own instance and build on it.
  const again = await b.http
    .patch(`/rest/common/v1/activities/${id}`)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { description: 'after the race' }, checksum: '1' } });
  expect(again.status).toBe(200);
  expect(again.body.data.attributes.subject).toBe(winner.body.data.attributes.subject);
});

test('the same GW-DBTransaction-ID sent to both instances at once: exactly one runs, the other is AlreadyExecuted', async () => {
  const txId = 'both-instances-1';
  const body = {
    requests: [
      { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Once only' } } } },
    ],
  };
  // An uncommitted ledger row with the same id makes both composites pass the early check and queue on it.
  await locker.query('BEGIN');
  await locker.query("INSERT INTO composite_transactions (id, create_time) VALUES ($1, 'x')", [txId]);
  const post = (http: Instance['http']) =>
    send(
      http
        .post('/rest/composite/v1/composite')
        .set('Authorization', t.auth('user'))
        .set('GW-DBTransaction-ID', txId)
        .send(body),
    );
  const fromA = post(t.http);
  const fromB = post(b.http);
  await lockWaiters(locker, 2);
  await locker.query('ROLLBACK');
  const results = await Promise.all([fromA, fromB]);

  expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  expect(results.find((r) => r.status === 400)!.body.errorCode).toBe(
    'gw.api.webservice.exception.AlreadyExecutedException',
  );
  expect(await t.knex('activities').where({ subject: 'Once only' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  // And later, on either instance, it stays executed.
  const later = await b.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', t.auth('user'))
    .set('GW-DBTransaction-ID', txId)
    .send(body);
  expect(later.status).toBe(400);
});

test('a user created on one instance signs in on the other; a password changed on one is refused by the other', async () => {
  const created = await t.http
    .post('/rest/admin/v1/users')
    .set('Authorization', t.auth('admin'))
    .send({ data: { attributes: { username: 'bob', password: 'bob-first-pw', roles: ['user'] } } });
  expect(created.status).toBe(201);
  expect(
    (await b.http.get('/rest/common/v1/activities').set('Authorization', basic('bob', 'bob-first-pw'))).status,
  ).toBe(200);
  const changed = await t.http
    .patch(`/rest/admin/v1/users/${created.body.data.attributes.id}`)
    .set('Authorization', t.auth('admin'))
    .send({ data: { attributes: { password: 'bob-second-pw' } } });
  expect(changed.status).toBe(200);
  expect(
    (await b.http.get('/rest/common/v1/activities').set('Authorization', basic('bob', 'bob-first-pw'))).status,
  ).toBe(401);
  expect(
    (await b.http.get('/rest/common/v1/activities').set('Authorization', basic('bob', 'bob-second-pw'))).status,
  ).toBe(200);
});

test('ids reserved on both instances never collide', async () => {
  const post = (http: Instance['http'], i: number) =>
    send(
      http
        .post('/rest/common/v1/activities')
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: `Id ${i}` } } }),
    );
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 ? t.http : b.http, i)));
  expect(results.every((r) => r.status === 201)).toBe(true);
  expect(new Set(results.map((r) => r.body.data.attributes.id)).size).toBe(20);
});
