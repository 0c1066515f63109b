// A keyed composite on PostgreSQL: its record goes in the one simple query that carries the queued
// inserts and COMMIT, so a keyed call costs one round trip more than the plain one (the advisory lock
// and the lookup of the key, sent with BEGIN). Round trips are counted as the pg driver's queries
// (one wait for the server each) while the real server runs them. When another instance commits the
// key first, the record's insert fails at COMMIT: nothing of the call commits, and the call is
// answered as the record that holds the key says.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { fingerprint } from '../../src/durable/headers';
import { lockWaiters, send, useTwoInstances } from './helpers';
import type { TestApp } from '../helpers/testApp';

const env = useTwoInstances();
let t: TestApp;
beforeAll(() => ({ t } = env));

const COMPOSITE = '/rest/composite/v1/composite';

/** An activity and notes under it: the shape the bench sends (bench/client.ts). */
function compositeOf(n: number) {
  const create = {
    method: 'post',
    uri: '/common/v1/activities',
    body: { data: { attributes: { subject: 'rt' } } },
    vars: [{ name: 'a', path: '$.data.attributes.id' }],
  };
  const notes = Array.from({ length: n - 1 }, (_, i) => ({
    method: 'post',
    uri: '/common/v1/activities/${a}/notes',
    body: { data: { attributes: { body: `note ${i}` } } },
  }));
  return { requests: [create, ...notes] };
}

function post(body: object, key?: string) {
  const req = t.http.post(COMPOSITE).set('Authorization', t.auth('user'));
  return key === undefined ? req.send(body) : req.set('Idempotency-Key', key).send(body);
}

/** The worker polls on its own timer: its statements are not the request's. */
const WORKER = /kind = 'async'|purge_after </;

/** The round trips `work` makes: calls of the pg driver's query, the worker's left out. */
async function roundTrips(work: () => PromiseLike<unknown>): Promise<{ count: number; texts: string[] }> {
  const texts: string[] = [];
  const original = Client.prototype.query;
  const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
    const q = args[0] as string | { text: string };
    const text = typeof q === 'string' ? q : q.text;
    if (!WORKER.test(text)) texts.push(text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return { count: texts.length, texts };
}

beforeAll(async () => {
  // Warm: ids drawn ahead and statements prepared on the connection.
  for (let i = 0; i < 3; i++) {
    await post(compositeOf(10));
    await post(compositeOf(10), `warm-${i}`);
  }
});

test('a keyed composite(10) makes one round trip more than the same composite without a key', async () => {
  const body = compositeOf(10);
  const plain = await roundTrips(() => post(body));
  const keyed = await roundTrips(async () => {
    const res = await post(body, 'rt-key');
    expect([res.status, res.body.message]).toEqual([200, undefined]);
  });
  expect(keyed.count).toBe(plain.count + 1);
  const last = keyed.texts[keyed.texts.length - 1];
  expect(last).toMatch(
    /^insert into "activities" .*; insert into "notes" .*; INSERT INTO durable_requests .*; COMMIT$/s,
  );
  const replay = await post(body, 'rt-key');
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(replay.body.responses).toHaveLength(10);
});

/**
 * Holds the activity a keyed composite patches (FOR UPDATE in the test's own session): the call has
 * taken the key's advisory lock and found no record; while it waits, the session stores a record
 * under the same key, as another instance that got there first would, and lets go.
 */
async function keyTakenWhileRunning(key: string, stored: (fingerprint: string) => { fingerprint: string }) {
  const created = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'before' } } });
  const id: string = created.body.data.attributes.id;
  const patch = { data: { attributes: { subject: 'after' } } };
  const body = { requests: [{ method: 'patch', uri: `/common/v1/activities/${id}`, body: patch }] };
  await env.locker.query('BEGIN');
  await env.locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [Number(id.split(':')[1])]);
  const call = send(post(body, key));
  await lockWaiters(env.locker, 1);
  const now = new Date().toISOString();
  const later = '2999-01-01T00:00:00.000Z';
  const row = {
    id: randomUUID(),
    caller: 'alice',
    idem_key: key,
    kind: 'sync',
    method: 'POST',
    request_uri: COMPOSITE,
    state: 'complete',
    attempts: 1,
    create_time: now,
    update_time: now,
    complete_time: now,
    key_expires: later,
    purge_after: later,
    response_status: 200,
    response: JSON.stringify({
      status: 200,
      headers: {},
      body: { responses: [{ status: 200, body: { first: key } }] },
    }),
    replay_state: JSON.stringify({ vars: [] }),
    ...stored(fingerprint('POST', COMPOSITE, Buffer.from(JSON.stringify(body)))),
  };
  const cols = Object.keys(row);
  await env.locker.query(
    `INSERT INTO durable_requests (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
    Object.values(row),
  );
  await env.locker.query('COMMIT');
  const res = await call;
  const activity = await t
    .knex('activities')
    .where({ id: Number(id.split(':')[1]) })
    .first();
  return { res, subject: activity.subject as string };
}

test('a key committed by another instance while the call ran: the call commits nothing and replays that answer', async () => {
  const { res, subject } = await keyTakenWhileRunning('taken-same', (fp) => ({ fingerprint: fp }));
  expect(res.status).toBe(200);
  expect(res.headers['idempotent-replayed']).toBe('true');
  expect(res.body.responses).toEqual([{ status: 200, body: { first: 'taken-same' } }]);
  expect(subject).toBe('before');
});

test('a key committed by another instance with another request while the call ran: 422, nothing committed', async () => {
  const { res, subject } = await keyTakenWhileRunning('taken-other', () => ({ fingerprint: 'f'.repeat(64) }));
  expect(res.status).toBe(422);
  expect(res.body.details[0].properties).toEqual({ idempotencyKey: 'taken-other' });
  expect(subject).toBe('before');
});
