// Idempotency-Key over HTTP (SPEC §8): the answer is stored with the writes and replayed; another
// request with the key is 422, a key in use is 409; keys are per caller and expire.
import { fingerprint } from '../../src/durable/headers';
import { startTestApp, type TestApp, type Who } from '../helpers/testApp';
import { COMPOSITE, createActivity } from '../composite/helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const ACTIVITIES = '/rest/common/v1/activities';

function post(path: string, body: unknown, key: string | undefined, who: Who = 'user') {
  const req = t.http.post(path).set('Authorization', t.auth(who));
  if (key !== undefined) req.set('Idempotency-Key', key);
  return req.send(body as object);
}

async function count(subject: string): Promise<number> {
  return Number((await t.knex('activities').where({ subject }).count({ n: '*' }))[0].n);
}

test('a POST sent again with its key is answered from the record: same status, headers and body, nothing runs twice', async () => {
  const body = { data: { attributes: { subject: 'Idem once' } } };
  const first = await post(ACTIVITIES, body, 'key-post-1');
  expect(first.status).toBe(201);
  expect(first.headers['idempotent-replayed']).toBeUndefined();
  const again = await post(ACTIVITIES, body, 'key-post-1');
  expect(again.status).toBe(201);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.headers.location).toBe(first.headers.location);
  expect(again.headers['gw-checksum']).toBe(first.headers['gw-checksum']);
  expect(again.body).toEqual(first.body);
  expect(await count('Idem once')).toBe(1);
});

test('a composite is replayed with its stored responses, and its selections run again against current data', async () => {
  const body = {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Composite idem' } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
    ],
    selections: [{ uri: '/common/v1/activities/${a}', parameters: { fields: 'subject' } }],
  };
  const first = await post(COMPOSITE, body, 'key-composite-1');
  expect(first.status).toBe(200);
  const id = first.body.responses[0].body.data.attributes.id;
  expect(first.body.selections[0].body.data.attributes.subject).toBe('Composite idem');
  const changed = await t.http
    .patch(`${ACTIVITIES}/${id}`)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'Changed since' } } });
  expect(changed.status).toBe(200);

  const again = await post(COMPOSITE, body, 'key-composite-1');
  expect(again.status).toBe(200);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.headers['server-timing']).toMatch(/sel\.0;dur=/);
  expect(again.body.responses).toEqual(first.body.responses);
  expect(again.body.selections[0].body.data.attributes.subject).toBe('Changed since');
  expect(await count('Composite idem')).toBe(0);
  expect(await count('Changed since')).toBe(1);
});

test('a failed composite (400, rolled back) is stored and replayed with the same error', async () => {
  const body = {
    requests: [
      { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Never kept' } } } },
      { method: 'post', uri: '/common/v1/activities/xc:999999/notes', body: { data: { attributes: { body: 'x' } } } },
    ],
  };
  const first = await post(COMPOSITE, body, 'key-failed-1');
  expect(first.status).toBe(400);
  expect(first.body.requestFailed).toBe(true);
  const again = await post(COMPOSITE, body, 'key-failed-1');
  expect(again.status).toBe(400);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toEqual(first.body);
  expect(await count('Never kept')).toBe(0);
});

test('a direct call that failed (404) is replayed with the same error; a DELETE is replayed too', async () => {
  const id = await createActivity(t, { subject: 'Deleted later' });
  const del = () =>
    t.http.delete(`${ACTIVITIES}/${id}`).set('Authorization', t.auth('user')).set('Idempotency-Key', 'key-delete-1');
  const first = await del();
  expect(first.status).toBe(204);
  const again = await del();
  expect(again.status).toBe(204);
  expect(again.headers['idempotent-replayed']).toBe('true');

  const missing = () =>
    t.http
      .patch(`${ACTIVITIES}/xc:888888`)
      .set('Authorization', t.auth('user'))
      .set('Idempotency-Key', 'key-404')
      .send({ data: { attributes: { subject: 'x' } } });
  const notFound = await missing();
  expect(notFound.status).toBe(404);
  const replayed = await missing();
  expect(replayed.status).toBe(404);
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(replayed.body).toEqual(notFound.body);
});

test('the same key with another body, path or method is 422 and runs nothing', async () => {
  expect((await post(ACTIVITIES, { data: { attributes: { subject: 'Key A' } } }, 'key-422')).status).toBe(201);
  const otherBody = await post(ACTIVITIES, { data: { attributes: { subject: 'Key B' } } }, 'key-422');
  expect(otherBody.status).toBe(422);
  expect(otherBody.body.errorCode).toBe('gw.api.rest.exception.UnprocessableEntityException');
  const otherPath = await post(`${ACTIVITIES}?fields=id`, { data: { attributes: { subject: 'Key A' } } }, 'key-422');
  expect(otherPath.status).toBe(422);
  const otherMethod = await t.http
    .patch(`${ACTIVITIES}/xc:1`)
    .set('Authorization', t.auth('user'))
    .set('Idempotency-Key', 'key-422')
    .send({ data: { attributes: { subject: 'Key A' } } });
  expect(otherMethod.status).toBe(422);
  expect(await count('Key A')).toBe(1);
  expect(await count('Key B')).toBe(0);
});

test('16 concurrent sends of one key: exactly one execution, the rest replayed or 409', async () => {
  const body = { data: { attributes: { subject: 'Raced key' } } };
  const results = await Promise.all(Array.from({ length: 16 }, () => post(ACTIVITIES, body, 'key-race')));
  const executed = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
  expect(executed).toHaveLength(1);
  for (const r of results) {
    if (r.status === 201) expect(r.body.data.attributes.id).toBe(executed[0].body.data.attributes.id);
    else expect(r.status).toBe(409);
  }
  expect(await count('Raced key')).toBe(1);
});

test('a key in use is 409; a call whose runner died before its commit (lease run out) runs on the retry', async () => {
  const body = { data: { attributes: { subject: 'Held key' } } };
  const row = (id: string, key: string, leaseUntil: string) => ({
    id,
    caller: 'alice',
    idem_key: key,
    kind: 'sync',
    method: 'POST',
    request_uri: ACTIVITIES,
    state: 'inProgress',
    owner: 'someone-else',
    fingerprint: fingerprint('POST', ACTIVITIES, Buffer.from(JSON.stringify(body))),
    lease_until: leaseUntil,
    attempts: 1,
    create_time: new Date().toISOString(),
    update_time: new Date().toISOString(),
    key_expires: '9999-01-01T00:00:00.000Z',
    purge_after: '9999-01-01T00:00:00.000Z',
  });
  await t
    .knex('durable_requests')
    .insert(row('00000000-0000-0000-0000-000000000001', 'key-held', '9999-01-01T00:00:00.000Z'));
  const busy = await post(ACTIVITIES, body, 'key-held');
  expect(busy.status).toBe(409);
  expect(busy.headers['retry-after']).toBe('1');
  expect(await count('Held key')).toBe(0);

  await t
    .knex('durable_requests')
    .insert(row('00000000-0000-0000-0000-000000000002', 'key-dead', '2000-01-01T00:00:00.000Z'));
  const taken = await post(ACTIVITIES, body, 'key-dead');
  expect(taken.status).toBe(201);
  expect((await post(ACTIVITIES, body, 'key-dead')).headers['idempotent-replayed']).toBe('true');
  expect(await count('Held key')).toBe(1);
});

test('keys are scoped to the caller: two users with one key do not collide', async () => {
  const body = { data: { attributes: { subject: 'Shared key' } } };
  const alice = await post(ACTIVITIES, body, 'key-shared', 'user');
  const admin = await post(ACTIVITIES, body, 'key-shared', 'admin');
  expect(alice.status).toBe(201);
  expect(admin.status).toBe(201);
  expect(admin.headers['idempotent-replayed']).toBeUndefined();
  expect(admin.body.data.attributes.id).not.toBe(alice.body.data.attributes.id);
  expect(await count('Shared key')).toBe(2);
});

test('an expired key runs again; expired records are purged', async () => {
  const body = { data: { attributes: { subject: 'Expiring key' } } };
  expect((await post(ACTIVITIES, body, 'key-expiring')).status).toBe(201);
  const ttlHours = await t.knex('durable_requests').where({ idem_key: 'key-expiring' }).first();
  expect(Date.parse(ttlHours.key_expires) - Date.parse(ttlHours.create_time)).toBe(24 * 3600000);
  // IDEMPOTENCY_TTL_HOURS later:
  await t
    .knex('durable_requests')
    .where({ idem_key: 'key-expiring' })
    .update({ key_expires: '2000-01-01T00:00:00.000Z', purge_after: '2000-01-01T00:00:00.000Z' });
  const again = await post(ACTIVITIES, body, 'key-expiring');
  expect(again.status).toBe(201);
  expect(again.headers['idempotent-replayed']).toBeUndefined();
  expect(await count('Expiring key')).toBe(2);
  await t.durable.worker.purge();
  expect(await t.knex('durable_requests').where({ id: ttlHours.id }).first()).toBeUndefined();
  expect((await post(ACTIVITIES, body, 'key-expiring')).headers['idempotent-replayed']).toBe('true');
});

test('an empty key or one over 255 characters is 400 and changes nothing; GETs ignore the header', async () => {
  const body = { data: { attributes: { subject: 'Bad key' } } };
  const empty = await post(ACTIVITIES, body, '');
  expect(empty.status).toBe(400);
  expect(empty.body.userMessage).toMatch(/Idempotency-Key must be 1 to 255 characters/);
  expect((await post(ACTIVITIES, body, 'k'.repeat(256))).status).toBe(400);
  expect(await count('Bad key')).toBe(0);
  expect((await post(ACTIVITIES, body, 'k'.repeat(255))).status).toBe(201);
  const get = await t.http.get(ACTIVITIES).set('Authorization', t.auth('user')).set('Idempotency-Key', '');
  expect(get.status).toBe(200);
});

test('a request refused before running (bad body, not allowed) is not recorded: the key stays free', async () => {
  const bad = await post(ACTIVITIES, { data: { attributes: { nope: 1 } } }, 'key-refused');
  expect(bad.status).toBe(400);
  const forbidden = await post(ACTIVITIES, { data: { attributes: { subject: 'Reader' } } }, 'key-reader', 'reader');
  expect(forbidden.status).toBe(403);
  expect(await t.knex('durable_requests').whereIn('idem_key', ['key-refused', 'key-reader'])).toHaveLength(0);
});

test('GW-DBTransaction-ID keeps AlreadyExecuted; with the same Idempotency-Key the stored answer is replayed instead', async () => {
  const body = {
    requests: [
      { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Both headers' } } } },
    ],
  };
  const send = (key: string) =>
    t.http
      .post(COMPOSITE)
      .set('Authorization', t.auth('user'))
      .set('GW-DBTransaction-ID', 'tx-both')
      .set('Idempotency-Key', key)
      .send(body);
  expect((await send('key-both')).status).toBe(200);
  const replay = await send('key-both');
  expect(replay.status).toBe(200);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  const otherKey = await send('key-both-2');
  expect(otherKey.status).toBe(400);
  expect(otherKey.body.errorCode).toBe('gw.api.webservice.exception.AlreadyExecutedException');
  expect(await count('Both headers')).toBe(1);
});

test('the answer commits with the writes: when its record cannot be stored, the writes roll back and the retry runs', async () => {
  const sqlite = t.config.database.kind === 'sqlite';
  await t.knex.raw(
    sqlite
      ? "CREATE TRIGGER test_refuse_record BEFORE INSERT ON durable_requests WHEN NEW.idem_key = 'key-unstorable' BEGIN SELECT RAISE(ABORT, 'record refused'); END"
      : "CREATE FUNCTION test_refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.idem_key = 'key-unstorable' THEN RAISE EXCEPTION 'record refused'; END IF; RETURN NEW; END $$",
  );
  if (!sqlite)
    await t.knex.raw(
      'CREATE TRIGGER test_refuse_record BEFORE INSERT ON durable_requests FOR EACH ROW EXECUTE FUNCTION test_refuse_record()',
    );
  const body = {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Unstorable' } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      { method: 'post', uri: '/common/v1/activities/${a}/notes', body: { data: { attributes: { body: 'n' } } } },
    ],
  };
  const failed = await post(COMPOSITE, body, 'key-unstorable');
  expect(failed.status).toBe(500);
  expect(JSON.stringify(failed.body)).not.toContain('record refused');
  expect(await count('Unstorable')).toBe(0);
  const direct = await post(ACTIVITIES, { data: { attributes: { subject: 'Unstorable' } } }, 'key-unstorable');
  expect(direct.status).toBe(500);
  expect(await count('Unstorable')).toBe(0);
  expect(await t.knex('durable_requests').where({ idem_key: 'key-unstorable' })).toHaveLength(0);

  await t.knex.raw('DROP TRIGGER test_refuse_record' + (sqlite ? '' : ' ON durable_requests'));
  const retried = await post(COMPOSITE, body, 'key-unstorable');
  expect(retried.status).toBe(200);
  expect(retried.headers['idempotent-replayed']).toBeUndefined();
  expect(await count('Unstorable')).toBe(1);
  const replayed = await post(COMPOSITE, body, 'key-unstorable');
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(replayed.body.responses).toEqual(retried.body.responses);
  expect(await count('Unstorable')).toBe(1);
});

test('a keyed write that answers at once keeps no record while it runs: a record in progress is one whose runner claimed its key first', async () => {
  // A composite of selections only writes nothing and opens no transaction: its answer is stored after.
  const body = { selections: [{ uri: '/common/v1/activities', parameters: { pageSize: '1' } }] };
  const first = await post(COMPOSITE, body, 'key-selections');
  expect(first.status).toBe(200);
  const records = await t.knex('durable_requests').where({ idem_key: 'key-selections' });
  expect(records).toHaveLength(1);
  expect(records[0].state).toBe('complete');
  expect(records[0].owner).toBeNull();
  const again = await post(COMPOSITE, body, 'key-selections');
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body.selections).toHaveLength(1);
});

test('an answer of a few KB is stored as its JSON, one over 16 KB deflated; both are replayed exactly', async () => {
  const composite = (subject: string, notes: number) => ({
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      ...Array.from({ length: notes }, (_, i) => ({
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: `stored answer note ${i}` } } },
      })),
    ],
  });
  for (const [key, notes, deflated] of [
    ['key-json', 12, false],
    ['key-deflated', 60, true],
  ] as const) {
    const body = composite(`Stored answer ${key}`, notes);
    const first = await post(COMPOSITE, body, key);
    expect(first.status).toBe(200);
    const [stored] = await t.knex('durable_requests').where({ idem_key: key }).pluck('response');
    expect(stored.startsWith('deflate:')).toBe(deflated);
    if (deflated) expect(stored.length).toBeLessThan(JSON.stringify(first.body.responses).length / 2);
    // Serialised once: the bytes sent are the stored body's JSON.
    else expect(first.text).toBe(JSON.stringify(JSON.parse(stored).body));
    const again = await post(COMPOSITE, body, key);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.responses).toEqual(first.body.responses);
  }

  const small = await post(ACTIVITIES, { data: { attributes: { subject: 'Small answer' } } }, 'key-small');
  expect(small.status).toBe(201);
  const [text] = await t.knex('durable_requests').where({ idem_key: 'key-small' }).pluck('response');
  expect(JSON.parse(text).status).toBe(201);
});

// On PostgreSQL a call running on another instance holds its key by an advisory lock in its transaction.
const onPostgres = process.env.TEST_DATABASE_URL ? test : test.skip;
onPostgres(
  'PostgreSQL: a key held by another instance’s running transaction is 409; once it ends the call runs',
  async () => {
    const body = { data: { attributes: { subject: 'Locked key' } } };
    const trx = await t.knex.transaction();
    try {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', ['alice\nkey-locked']);
      const busy = await post(ACTIVITIES, body, 'key-locked');
      expect(busy.status).toBe(409);
    } finally {
      await trx.rollback();
    }
    expect(await count('Locked key')).toBe(0);
    const ran = await post(ACTIVITIES, body, 'key-locked');
    expect(ran.status).toBe(201);
    const again = await post(ACTIVITIES, body, 'key-locked');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await count('Locked key')).toBe(1);
  },
);
