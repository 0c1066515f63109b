// Batch requests (SPEC §8): each subrequest as if sent alone, in order; abort; header inheritance; the
// limit; includeResponseHeaders; authorisation per subrequest; no batch inside a composite or a batch.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity } from '../composite/helpers';
import { batch, fullSnapshot } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ BATCH_MAX_SUBREQUESTS: '5' });
});
afterAll(async () => t.close());

const post = (subject: string, extra: Record<string, unknown> = {}) => ({
  method: 'post',
  path: '/activities',
  body: { data: { attributes: { subject } } },
  ...extra,
});
const subjects = async () => (await t.knex('activities').select('subject')).map((r: { subject: string }) => r.subject);

test('mixed success and failure: each runs alone, a failure undoes nothing else', async () => {
  const res = await batch(t, {
    requests: [
      post('batch one'),
      { method: 'post', path: '/activities', body: { data: { attributes: {} } } },
      { method: 'get', path: '/activities', query: 'filter=subject:sw:batch&fields=subject' },
      { method: 'delete', path: '/activities/xc:999999' },
      { method: 'get', path: '/nothing/here' },
    ],
  });
  expect(res.status).toBe(200);
  const [created, invalid, list, missing, unknownPath] = res.body.responses;
  expect(created.status).toBe(201);
  expect(created.body.data.attributes.subject).toBe('batch one');
  expect(created.headers).toEqual(
    expect.arrayContaining([{ name: 'Location', value: created.body.data.links.self.href }]),
  );
  expect(invalid.status).toBe(400);
  expect(invalid.body.errorCode).toBe('gw.api.rest.exception.BadInputException');
  expect(list.status).toBe(200);
  expect(list.body.data.map((d: { attributes: { subject: string } }) => d.attributes.subject)).toEqual(['batch one']);
  expect(missing.status).toBe(404);
  expect(unknownPath.status).toBe(404);
  expect(await subjects()).toContain('batch one');
});

test('a path with another method answers 405 with Allow in its entry, as if sent alone', async () => {
  const res = await batch(t, { requests: [{ method: 'PATCH', path: '/activities' }] });
  expect(res.status).toBe(200);
  expect(res.body.responses[0].status).toBe(405);
  expect(res.body.responses[0].headers).toEqual([{ name: 'Allow', value: 'GET, POST' }]);
});

test('onFail abort skips the rest; continue (the default) does not', async () => {
  const res = await batch(t, {
    requests: [
      post('before abort'),
      { method: 'delete', path: '/activities/xc:999999', onFail: 'abort' },
      post('never'),
      post('never 2'),
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.responses.map((r: { status?: number; skipped?: boolean }) => r.status ?? r.skipped)).toEqual([
    201,
    404,
    true,
    true,
  ]);
  expect(res.body.responses[2]).toEqual({ skipped: true });
  expect(await subjects()).not.toContain('never');
  const cont = await batch(t, {
    requests: [{ method: 'delete', path: '/activities/xc:999999' }, post('after continue')],
  });
  expect(cont.body.responses.map((r: { status: number }) => r.status)).toEqual([404, 201]);
});

test("headers: inherited from the main request except GW-Checksum; a subrequest's own override", async () => {
  const id = await createActivity(t, { subject: 'checksummed' });
  // A stale GW-Checksum on the main request is NOT inherited: the patch succeeds.
  const res = await batch(
    t,
    {
      requests: [
        { method: 'patch', path: `/activities/${id}`, body: { data: { attributes: { subject: 'patched' } } } },
      ],
    },
    { headers: { 'GW-Checksum': '42' } },
  );
  expect(res.body.responses[0].status).toBe(200);
  // The subrequest's own GW-Checksum counts: stale → 409.
  const own = await batch(t, {
    requests: [{ method: 'delete', path: `/activities/${id}`, headers: [{ name: 'GW-Checksum', value: '0' }] }],
  });
  expect(own.body.responses[0].status).toBe(409);
  // Inherited: the main request's GW-UnknownPropertyHandling reaches the subrequest…
  const inherited = await batch(
    t,
    { requests: [post('with extra', { body: { data: { attributes: { subject: 'extra', colour: 'red' } } } })] },
    { headers: { 'GW-UnknownPropertyHandling': 'ignore' } },
  );
  expect(inherited.body.responses[0].status).toBe(201);
  // …and a subrequest's own GW-DoNotCommit overrides the main request's absence of one.
  const before = await fullSnapshot(t);
  const dry = await batch(t, { requests: [post('dry sub', { headers: [{ name: 'GW-DoNotCommit', value: 'true' }] })] });
  expect(dry.body.responses[0].status).toBe(201);
  expect(dry.body.responses[0].headers).toEqual(expect.arrayContaining([{ name: 'GW-DoNotCommit', value: 'true' }]));
  expect(await fullSnapshot(t)).toBe(before);
});

test('BATCH_MAX_SUBREQUESTS: N runs, N+1 is refused before anything runs', async () => {
  const atLimit = await batch(t, { requests: Array.from({ length: 5 }, (_, i) => post(`limit ${i}`)) });
  expect(atLimit.status).toBe(200);
  expect(atLimit.body.responses).toHaveLength(5);
  const before = await fullSnapshot(t);
  const over = await batch(t, { requests: Array.from({ length: 6 }, (_, i) => post(`over ${i}`)) });
  expectError(over, 400);
  expect(over.body.details[0].properties).toEqual({ limit: 5, requests: 6 });
  expect(await fullSnapshot(t)).toBe(before);
});

test('includeResponseHeaders: all (default), none, a comma list', async () => {
  const body = { requests: [post('headers')] };
  const all = await batch(t, body);
  expect(all.body.responses[0].headers.map((h: { name: string }) => h.name).sort()).toEqual([
    'GW-Checksum',
    'Location',
  ]);
  const explicitAll = await batch(t, body, { query: 'includeResponseHeaders=all' });
  expect(explicitAll.body.responses[0].headers).toHaveLength(2);
  const none = await batch(t, body, { query: 'includeResponseHeaders=none' });
  expect(none.body.responses[0].headers).toEqual([]);
  const list = await batch(t, body, { query: 'includeResponseHeaders=location,X-Other' });
  expect(list.body.responses[0].headers).toEqual([
    { name: 'Location', value: list.body.responses[0].body.data.links.self.href },
  ]);
  expectError(await batch(t, body, { query: 'includeResponseHeaders=,' }), 400);
});

test("authorisation per subrequest: a reader's POST gets 403 in that entry only", async () => {
  const res = await batch(
    t,
    {
      requests: [
        { method: 'get', path: '/activities', query: 'pageSize=1' },
        post('by reader'),
        { method: 'get', path: '/activities', query: 'pageSize=1' },
      ],
    },
    { who: 'reader' },
  );
  expect(res.status).toBe(200);
  expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual([200, 403, 200]);
  expect(await subjects()).not.toContain('by reader');
  // The admin API's batch is for admins, and a user's batch of admin paths is refused whole.
  expectError(await batch(t, { requests: [{ method: 'get', path: '/users' }] }, { path: '/rest/admin/v1/batch' }), 403);
  const admin = await batch(
    t,
    { requests: [{ method: 'get', path: '/users', query: 'fields=username' }] },
    { who: 'admin', path: '/rest/admin/v1/batch' },
  );
  expect(admin.body.responses[0].status).toBe(200);
  expect(admin.body.responses[0].body.data.length).toBeGreaterThanOrEqual(3);
});

test('refused before anything runs: a batch in a batch, a bad method or path, an unknown member', async () => {
  const before = await fullSnapshot(t);
  for (const bad of [
    { requests: [post('no'), { method: 'post', path: '/batch', body: { requests: [post('nested')] } }] },
    { requests: [post('no'), { method: 'put', path: '/activities' }] },
    { requests: [post('no'), { method: 'get', path: 'activities' }] },
    { requests: [post('no'), { method: 'get', path: '/activities?pageSize=1' }] },
    { requests: [post('no'), { method: 'get', path: '/activities', colour: 'red' }] },
    { requests: [] },
  ]) {
    const res = await batch(t, bad);
    expectError(res, 400);
  }
  expect(await fullSnapshot(t)).toBe(before);
});

test('a batch inside a composite is refused (x-gw-allowForCompositeApi: false)', async () => {
  const res = await composite(t, {
    requests: [{ method: 'post', uri: '/common/v1/batch', body: { requests: [post('inside')] } }],
  });
  expectError(res, 400);
  expect(res.body.userMessage).toMatch(/not allowed in a composite/);
  const doc = await t.http.get('/openapi.json').set('Authorization', t.auth('user'));
  for (const api of ['common', 'admin']) {
    const op = doc.body.paths[`/${api}/v1/batch`].post;
    expect(op['x-gw-allowForCompositeApi']).toBe(false);
    expect(Object.keys(op.responses).sort()).toEqual(['200', '202', '400', '401', '403', '409', '422']);
    expect(op.requestBody.content['application/json'].schema.properties.requests.items.properties.onFail).toBeDefined();
  }
});
