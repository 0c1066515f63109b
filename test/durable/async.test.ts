// Asynchronous calls over HTTP (SPEC §8): Prefer: respond-async → 202 and a record to poll, the
// original answer stored, `wait`, checks before the 202, and records only their sender can read.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { COMPOSITE } from '../composite/helpers';
import { pollComplete, sendAsync } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const ACTIVITIES = '/rest/common/v1/activities';

function compositeBody(subject: string) {
  return {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
        parameters: { fields: 'id,subject' },
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: 'note' } } },
        includeResponse: false,
      },
    ],
    selections: [{ uri: '/common/v1/activities/${a}', parameters: { fields: 'subject,priority' } }],
  };
}

/** The answer with its ids (which differ between two runs) and timings taken out. */
function normalised(status: number, headers: Record<string, string>, body: unknown): unknown {
  const text = JSON.stringify({
    status,
    location: headers.location,
    checksum: headers['gw-checksum'],
    type: headers['content-type'],
    body,
  });
  return JSON.parse(text.replace(/xc:\d+/g, 'xc:N'));
}

test('a composite sent with respond-async: 202 with an empty body and a location, then complete, and its stored answer is what a synchronous call answers', async () => {
  const accepted = await sendAsync(t, 'post', COMPOSITE, compositeBody('Async composite'));
  expect(accepted.status).toBe(202);
  expect(accepted.text).toBe('');
  expect(accepted.headers['preference-applied']).toBe('respond-async');
  const location = accepted.headers['gw-async-location'];
  expect(location).toMatch(/^\/async\/v1\/requests\/[0-9a-f-]{36}$/);

  const record = await pollComplete(t.http, t.auth('user'), location);
  expect(record).toMatchObject({
    requestMethod: 'POST',
    requestUri: COMPOSITE,
    responseStatus: 200,
    status: { code: 'complete', name: 'Complete' },
  });
  expect(Date.parse(record.completeTime as string)).toBeGreaterThanOrEqual(Date.parse(record.createTime as string));

  const stored = await t.http.get(`/rest${location}/response`).set('Authorization', t.auth('user'));
  const direct = await t.http
    .post(COMPOSITE)
    .set('Authorization', t.auth('user'))
    .send(compositeBody('Async composite'));
  expect(stored.status).toBe(200);
  expect(stored.body.selections[0].body.data.attributes.subject).toBe('Async composite');
  expect(normalised(stored.status, stored.headers, stored.body)).toEqual(
    normalised(direct.status, direct.headers, direct.body),
  );
  expect(Number((await t.knex('activities').where({ subject: 'Async composite' }).count({ n: '*' }))[0].n)).toBe(2);
});

test('a POST, a PATCH and a DELETE with GW-Checksum run asynchronously with their headers; the record keeps each answer', async () => {
  const created = await sendAsync(t, 'post', `${ACTIVITIES}?fields=id,subject`, {
    data: { attributes: { subject: 'Async post' } },
  });
  expect(created.status).toBe(202);
  const postRecord = await pollComplete(t.http, t.auth('user'), created.headers['gw-async-location']);
  expect(postRecord.responseStatus).toBe(201);
  expect(postRecord.requestUri).toBe(`${ACTIVITIES}?fields=id,subject`);
  const answer = await t.http
    .get(`/rest${created.headers['gw-async-location']}/response`)
    .set('Authorization', t.auth('user'));
  expect(answer.status).toBe(201);
  expect(answer.headers.location).toMatch(/^\/common\/v1\/activities\/xc:\d+$/);
  expect(Object.keys(answer.body.data.attributes).sort()).toEqual(['id', 'subject']);
  const id = answer.body.data.attributes.id;

  const patched = await sendAsync(t, 'patch', `${ACTIVITIES}/${id}`, {
    data: { attributes: { subject: 'Async patched' }, checksum: '0' },
  });
  expect((await pollComplete(t.http, t.auth('user'), patched.headers['gw-async-location'])).responseStatus).toBe(200);
  const stale = await sendAsync(t, 'delete', `${ACTIVITIES}/${id}`, undefined, 'user', { 'GW-Checksum': '0' });
  expect((await pollComplete(t.http, t.auth('user'), stale.headers['gw-async-location'])).responseStatus).toBe(409);
  const staleAnswer = await t.http
    .get(`/rest${stale.headers['gw-async-location']}/response`)
    .set('Authorization', t.auth('user'));
  expect(staleAnswer.status).toBe(409);
  expect(staleAnswer.body.errorCode).toBe('gw.api.rest.exception.ChecksumMismatchException');
  const deleted = await sendAsync(t, 'delete', `${ACTIVITIES}/${id}`, undefined, 'user', { 'GW-Checksum': '1' });
  expect((await pollComplete(t.http, t.auth('user'), deleted.headers['gw-async-location'])).responseStatus).toBe(204);
  expect(await t.knex('activities').where({ subject: 'Async patched' }).first()).toBeUndefined();
});

test('wait=5 on a fast request answers it synchronously', async () => {
  const res = await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { subject: 'Waited for' } } }, 'user', {
    Prefer: 'respond-async, wait=5',
  });
  expect(res.status).toBe(201);
  expect(res.headers['gw-async-location']).toBeUndefined();
  expect(res.body.data.attributes.subject).toBe('Waited for');
});

test('wait=1 on a request that does not finish in time answers 202 after all', async () => {
  await t.durable.worker.stop();
  try {
    const res = await sendAsync(
      t,
      'post',
      ACTIVITIES,
      { data: { attributes: { subject: 'Not waited for' } } },
      'user',
      { Prefer: 'respond-async, wait=1' },
    );
    expect(res.status).toBe(202);
    expect(res.headers['gw-async-location']).toMatch(/^\/async\/v1\/requests\//);
  } finally {
    await t.durable.worker.start();
  }
});

test('what can be checked without data is refused at once: a malformed composite, a bad body, a reader writing — and nothing is stored', async () => {
  const before = await t.knex('durable_requests').count({ n: '*' });
  const malformed = await sendAsync(t, 'post', COMPOSITE, {
    requests: [{ method: 'get', uri: '/common/v1/activities' }],
  });
  expect(malformed.status).toBe(400);
  expect(malformed.body.userMessage).toMatch(/requests\/0\/method/);
  const undeclared = await sendAsync(t, 'post', COMPOSITE, {
    requests: [{ method: 'post', uri: '/common/v1/activities/${nope}/notes', body: {} }],
  });
  expect(undeclared.status).toBe(400);
  expect((await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { unknown: 1 } } })).status).toBe(400);
  expect((await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { subject: 'x' } } }, 'reader')).status).toBe(
    403,
  );
  expect(await t.knex('durable_requests').count({ n: '*' })).toEqual(before);
});

test('while it is not complete its response is 400; the worker picks it up when it starts', async () => {
  await t.durable.worker.stop();
  try {
    const accepted = await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { subject: 'Queued' } } });
    const location = accepted.headers['gw-async-location'];
    const record = await t.http.get(`/rest${location}`).set('Authorization', t.auth('user'));
    expect(record.body.data.attributes.status).toEqual({ code: 'accepted', name: 'Accepted' });
    expect(record.body.data.attributes.responseStatus).toBeUndefined();
    const early = await t.http.get(`/rest${location}/response`).set('Authorization', t.auth('user'));
    expect(early.status).toBe(400);
    expect(early.body.userMessage).toMatch(/not complete/);
    await t.durable.worker.start();
    expect((await pollComplete(t.http, t.auth('user'), location)).responseStatus).toBe(201);
  } finally {
    await t.durable.worker.start();
  }
});

test('only the sender or an admin reads a record; anyone else, and an unknown id, get 404', async () => {
  const accepted = await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { subject: 'Private' } } });
  const location = accepted.headers['gw-async-location'];
  await pollComplete(t.http, t.auth('user'), location);
  for (const suffix of ['', '/response']) {
    const other = await t.http.get(`/rest${location}${suffix}`).set('Authorization', t.auth('reader'));
    expect(other.status).toBe(404);
    expect(other.body.errorCode).toBe('gw.api.rest.exception.NotFoundException');
    expect((await t.http.get(`/rest${location}${suffix}`).set('Authorization', t.auth('admin'))).status).toBe(
      suffix ? 201 : 200,
    );
  }
  expect(
    (
      await t.http
        .get('/rest/async/v1/requests/00000000-0000-0000-0000-000000000000')
        .set('Authorization', t.auth('user'))
    ).status,
  ).toBe(404);
  expect(
    (await t.http.get(`/rest/async/v1/requests/${'x'.repeat(300)}`).set('Authorization', t.auth('user'))).status,
  ).toBe(404);
  expect((await t.http.get(`/rest${location}`)).status).toBe(401);
});

test('an async request with an Idempotency-Key: sent again while queued is 409, once complete it is replayed', async () => {
  await t.durable.worker.stop();
  const body = { data: { attributes: { subject: 'Async keyed' } } };
  const headers = { 'Idempotency-Key': 'async-key-1' };
  try {
    expect((await sendAsync(t, 'post', ACTIVITIES, body, 'user', headers)).status).toBe(202);
    expect((await sendAsync(t, 'post', ACTIVITIES, body, 'user', headers)).status).toBe(409);
  } finally {
    await t.durable.worker.start();
  }
  const row = await t.knex('durable_requests').where({ idem_key: 'async-key-1' }).first();
  await pollComplete(t.http, t.auth('user'), `/async/v1/requests/${row.id}`);
  const replay = await sendAsync(t, 'post', ACTIVITIES, body, 'user', headers);
  expect(replay.status).toBe(201);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(Number((await t.knex('activities').where({ subject: 'Async keyed' }).count({ n: '*' }))[0].n)).toBe(1);
});

test('Prefer on a GET is ignored; records past ASYNC_RETENTION_DAYS are purged', async () => {
  expect(
    (await t.http.get(ACTIVITIES).set('Authorization', t.auth('user')).set('Prefer', 'respond-async')).status,
  ).toBe(200);
  const accepted = await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { subject: 'Purged' } } });
  const location = accepted.headers['gw-async-location'];
  await pollComplete(t.http, t.auth('user'), location);
  const id = location.split('/').pop();
  const row = await t.knex('durable_requests').where({ id }).first();
  expect(Date.parse(row.purge_after) - Date.parse(row.create_time)).toBe(7 * 86400000);
  await t.knex('durable_requests').where({ id }).update({ purge_after: '2000-01-01T00:00:00.000Z' });
  await t.durable.worker.purge();
  expect((await t.http.get(`/rest${location}`).set('Authorization', t.auth('user'))).status).toBe(404);
});

test('a request is kept only until it ran: a password sent asynchronously is not left in the database', async () => {
  const accepted = await sendAsync(
    t,
    'post',
    '/rest/admin/v1/users',
    { data: { attributes: { username: 'async-bob', password: 'async-secret-pw-1', roles: ['user'] } } },
    'admin',
  );
  const location = accepted.headers['gw-async-location'];
  expect((await pollComplete(t.http, t.auth('admin'), location)).responseStatus).toBe(201);
  const rows = await t.knex('durable_requests').select('*');
  expect(JSON.stringify(rows)).not.toContain('async-secret-pw-1');
  const answer = await t.http.get(`/rest${location}/response`).set('Authorization', t.auth('admin'));
  expect(answer.status).toBe(201);
  expect(JSON.stringify(answer.body)).not.toContain('async-secret-pw-1');
});

test('request ids are UUIDs that start with their time: each sorts after the one sent before it', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const accepted = await sendAsync(t, 'post', ACTIVITIES, { data: { attributes: { subject: `Ordered ${i}` } } });
    expect(accepted.status).toBe(202);
    ids.push(accepted.headers['gw-async-location'].split('/').pop() as string);
  }
  // RFC 9562 version 7: the version digit 7, the variant 10xx, and the rest random.
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});
