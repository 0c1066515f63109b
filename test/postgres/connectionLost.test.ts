// A PostgreSQL backend killed under the server (pg_terminate_backend: a failover, an operator, an
// OOM kill): the client gets 503 with Retry-After — or success, when the work never reached COMMIT
// and was run again on a fresh connection — never 500; nothing half-done is committed; the next
// request is served.
import type { Client } from 'pg';
import type { Response } from 'supertest';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { lockWaiters, send, session } from './helpers';

let t: TestApp;
let locker: Client;
let observer: Client;

beforeAll(async () => {
  t = await startTestApp();
  locker = await session(t);
  observer = await session(t);
});
afterAll(async () => {
  await locker.end();
  await observer.end();
  await t.close();
});

const ACTIVITIES = '/rest/common/v1/activities';

async function createActivity(subject: string): Promise<{ id: string; numeric: number }> {
  const res = await t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject } } });
  expect(res.status).toBe(201);
  return { id: res.body.data.attributes.id, numeric: Number(res.body.data.attributes.id.split(':')[1]) };
}

/** 503 with Retry-After in the error body, or the success a retry on a fresh connection gives. */
function expectUnavailableOr(res: Response, success: number): void {
  expect([success, 503]).toContain(res.status);
  if (res.status === 503) {
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body.errorCode).toBe('gw.api.rest.exception.ServiceUnavailableException');
  }
}

/** Holds the row lock of activity `numeric` until `release` runs; kills the backends waiting for it. */
async function killWhileWaitingFor(numeric: number, request: () => PromiseLike<Response>): Promise<Response> {
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [numeric]);
  const pending = send(request());
  await lockWaiters(observer, 1);
  const { rows } = await observer.query<{ killed: boolean }>(
    "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
  );
  expect(rows.map((r) => r.killed)).toEqual([true]);
  await locker.query('ROLLBACK');
  return pending;
}

async function recovers(): Promise<void> {
  expect((await t.http.get(ACTIVITIES).set('Authorization', t.auth('user'))).status).toBe(200);
  expect((await t.http.get('/healthz')).status).toBe(200);
}

test('a PATCH whose backend is killed inside its transaction answers 503 or is run again, never 500', async () => {
  const { id, numeric } = await createActivity('Patch me');
  const res = await killWhileWaitingFor(numeric, () =>
    t.http
      .patch(`${ACTIVITIES}/${id}`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'Patched' } } }),
  );
  expectUnavailableOr(res, 200);
  const stored = await t.knex('activities').where({ id: numeric }).first();
  expect(stored.subject).toBe(res.status === 200 ? 'Patched' : 'Patch me');
  await recovers();
});

test('a composite whose backend is killed mid-way answers 503 with nothing committed, or commits once', async () => {
  const { id, numeric } = await createActivity('Locked');
  const before = Number((await t.knex('activities').count({ n: '*' }))[0].n);
  const res = await killWhileWaitingFor(numeric, () =>
    t.http
      .post('/rest/composite/v1/composite')
      .set('Authorization', t.auth('user'))
      .send({
        requests: [
          {
            method: 'post',
            uri: '/common/v1/activities',
            body: { data: { attributes: { subject: 'Made in the killed composite' } } },
          },
          {
            method: 'patch',
            uri: `/common/v1/activities/${id}`,
            body: { data: { attributes: { subject: 'Changed by the killed composite' } } },
          },
        ],
      }),
  );
  expectUnavailableOr(res, 200);
  const made = await t.knex('activities').where({ subject: 'Made in the killed composite' });
  expect(made).toHaveLength(res.status === 200 ? 1 : 0);
  expect(Number((await t.knex('activities').count({ n: '*' }))[0].n)).toBe(before + made.length);
  await recovers();
});

test('requests on pooled connections whose backends were just killed are answered, never 500', async () => {
  // Fill the pool with connections, then kill every one of them at once.
  await Promise.all(Array.from({ length: 8 }, () => t.http.get(ACTIVITIES).set('Authorization', t.auth('user'))));
  await observer.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> $1',
    [(locker as unknown as { processID: number }).processID],
  );
  const answers = await Promise.all([
    ...Array.from({ length: 8 }, () => t.http.get(ACTIVITIES).set('Authorization', t.auth('user'))),
    t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'After the kill' } } }),
  ]);
  for (const res of answers.slice(0, 8)) expectUnavailableOr(res, 200);
  expectUnavailableOr(answers[8], 201);
  await recovers();
});
