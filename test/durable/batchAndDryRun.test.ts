// Durable requests meet the other ways to run many requests: a batch with Idempotency-Key runs once and
// is replayed, an asynchronous batch is checked before its 202 and completes, and a dry run is never
// stored (its key stays free for the real call) nor queued.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const BATCH = '/rest/common/v1/batch';
const ACTIVITIES = '/rest/common/v1/activities';

async function count(subject: string): Promise<number> {
  return Number((await t.knex('activities').where({ subject }).count({ n: '*' }))[0].n);
}

async function records(): Promise<number> {
  return Number((await t.knex('durable_requests').count({ n: '*' }))[0].n);
}

function batchOf(subject: string) {
  return {
    requests: [
      { method: 'post', path: '/activities', body: { data: { attributes: { subject } } } },
      { method: 'get', path: '/activities', query: 'pageSize=1' },
    ],
  };
}

test('a batch sent again with its Idempotency-Key gets the stored answer and runs nothing twice', async () => {
  const body = batchOf('Batch once');
  const first = await t.http
    .post(BATCH)
    .set('Authorization', t.auth('user'))
    .set('Idempotency-Key', 'batch-key-1')
    .send(body);
  expect(first.status).toBe(200);
  expect(first.body.responses[0].status).toBe(201);
  const again = await t.http
    .post(BATCH)
    .set('Authorization', t.auth('user'))
    .set('Idempotency-Key', 'batch-key-1')
    .send(body);
  expect(again.status).toBe(200);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toEqual(first.body);
  expect(await count('Batch once')).toBe(1);
  const other = await t.http
    .post(BATCH)
    .set('Authorization', t.auth('user'))
    .set('Idempotency-Key', 'batch-key-1')
    .send(batchOf('Another batch'));
  expect(other.status).toBe(422);
});

test('an asynchronous batch over BATCH_MAX_SUBREQUESTS is refused at once; a good one is accepted and completes', async () => {
  const before = await records();
  const tooMany = {
    requests: Array.from({ length: t.config.batchMaxSubrequests + 1 }, () => ({ method: 'get', path: '/activities' })),
  };
  const refused = await t.http
    .post(BATCH)
    .set('Authorization', t.auth('user'))
    .set('Prefer', 'respond-async')
    .send(tooMany);
  expect(refused.status).toBe(400);
  expect(await records()).toBe(before);

  const accepted = await t.http
    .post(BATCH)
    .set('Authorization', t.auth('user'))
    .set('Prefer', 'respond-async')
    .send(batchOf('Batch later'));
  expect(accepted.status).toBe(202);
  const location = accepted.headers['gw-async-location'];
  expect(location).toMatch(/^\/async\/v1\/requests\//);
  let record: { status: { code: string } } | undefined;
  for (let i = 0; i < 200; i++) {
    record = (await t.http.get(`/rest${location}`).set('Authorization', t.auth('user'))).body.data.attributes;
    if (record?.status.code === 'complete') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(record?.status.code).toBe('complete');
  const answer = await t.http.get(`/rest${location}/response`).set('Authorization', t.auth('user'));
  expect(answer.status).toBe(200);
  expect(answer.body.responses[0].status).toBe(201);
  expect(await count('Batch later')).toBe(1);
});

test('a dry run with an Idempotency-Key stores nothing: the real call with the key then runs', async () => {
  const body = { data: { attributes: { subject: 'Rehearsed first' } } };
  const before = await records();
  const dry = await t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .set('Idempotency-Key', 'dry-key-1')
    .set('GW-DoNotCommit', 'true')
    .send(body);
  expect(dry.status).toBe(201);
  expect(dry.headers['gw-donotcommit']).toBe('true');
  expect(await records()).toBe(before);
  expect(await count('Rehearsed first')).toBe(0);
  const real = await t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .set('Idempotency-Key', 'dry-key-1')
    .send(body);
  expect(real.status).toBe(201);
  expect(real.headers['idempotent-replayed']).toBeUndefined();
  expect(await count('Rehearsed first')).toBe(1);
});

test('a dry run sent with Prefer: respond-async is answered at once, not queued', async () => {
  const before = await records();
  const dry = await t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .set('Prefer', 'respond-async')
    .set('GW-DoNotCommit', 'true')
    .send({ data: { attributes: { subject: 'Never queued' } } });
  expect(dry.status).toBe(201);
  expect(await records()).toBe(before);
  expect(await count('Never queued')).toBe(0);
});

test("a keyed composite's replay runs its selections with the sender's unknown-parameter handling", async () => {
  const body = { selections: [{ uri: '/common/v1/activities', parameters: { pageSize: 1, colour: 'red' } }] };
  const send = () =>
    t.http
      .post('/rest/composite/v1/composite')
      .set('Authorization', t.auth('user'))
      .set('Idempotency-Key', 'unknown-replay-1')
      .set('GW-UnknownQueryParamHandling', 'ignore')
      .send(body);
  const first = await send();
  expect(first.status).toBe(200);
  expect(first.body.selections[0].status).toBe(200);
  const again = await send();
  expect(again.status).toBe(200);
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body.selections[0].status).toBe(200);
});
