// GET /metrics over HTTP: Prometheus text that a strict parser accepts; requests by operation id and
// status; a composite's subrequests, transactions, connector steps and the pool; admins only unless
// METRICS_PUBLIC=true; one registry per app; and no label holding an id, a user or a request value.
import path from 'node:path';
import { parsePrometheus, valueOf, type Sample } from '../helpers/prometheus';
import { startTestApp, USERNAMES, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from '../connectors/upstream';

let t: TestApp;
let api: Upstream;
beforeAll(async () => {
  api = await startUpstream((req, res) => json(res, req.url === '/fail' ? 503 : 200, { ok: true }));
  const registry = path.join(tempDir(), 'connectors_registry.json');
  writeJson(registry, {
    connectors: [],
    composite_connectors: [
      {
        name: 'Two',
        permalink: 'two',
        steps: [
          { name: 'a', url: `${api.url}/ok` },
          { name: 'b', url: `${api.url}/ok` },
        ],
      },
      { name: 'Failing', permalink: 'failing', steps: [{ name: 'a', url: `${api.url}/fail` }] },
    ],
  });
  t = await startTestApp({ CONNECTORS_REGISTRY: registry, CONNECTORS_ALLOWED_HOSTS: api.host });
});
afterAll(async () => {
  await t.close();
  await api.close();
});

async function scrape(app: TestApp = t): Promise<Sample[]> {
  const res = await app.http.get('/metrics').set('Authorization', app.auth('admin'));
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(res.text);
}

test('refused without credentials (401) and to a non-admin (403), in the SPEC §2 body', async () => {
  const anonymous = await t.http.get('/metrics');
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers['www-authenticate']).toContain('Basic');
  expect(anonymous.body.errorCode).toBe('gw.api.rest.exception.UnauthenticatedException');
  for (const who of ['user', 'reader'] as const) {
    const res = await t.http.get('/metrics').set('Authorization', t.auth(who));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ status: 403, errorCode: 'gw.api.rest.exception.PermissionDeniedException' });
  }
});

test('a composite is counted with its subrequests, its transaction and its request', async () => {
  const before = await scrape();
  const res = await t.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', t.auth('user'))
    .send({
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'one' } } },
          vars: [{ name: 'a', path: '$.data.attributes.id' }],
        },
        { method: 'post', uri: '/common/v1/activities/${a}/notes', body: { data: { attributes: { body: 'n' } } } },
        { method: 'patch', uri: '/common/v1/activities/${a}', body: { data: { attributes: { subject: 'two' } } } },
      ],
      selections: [{ uri: '/common/v1/activities/${a}' }],
    });
  expect(res.status).toBe(200);
  const after = await scrape();
  const delta = (name: string, labels: Record<string, string> = {}) =>
    valueOf(after, name, labels) - valueOf(before, name, labels);
  expect(delta('subrequests_total', { source: 'composite_request' })).toBe(3);
  expect(delta('subrequests_total', { source: 'composite_selection' })).toBe(1);
  expect(delta('composite_size_count', { part: 'requests' })).toBe(1);
  expect(delta('composite_size_sum', { part: 'requests' })).toBe(3);
  expect(delta('composite_size_bucket', { part: 'requests', le: '2' })).toBe(0);
  expect(delta('composite_size_bucket', { part: 'requests', le: '5' })).toBe(1);
  expect(delta('http_requests_total', { operation: 'executeComposite', method: 'POST', status: '200' })).toBe(1);
  expect(
    delta('http_request_duration_seconds_count', { operation: 'executeComposite', method: 'POST', status: '200' }),
  ).toBe(1);
  expect(delta('db_transaction_duration_seconds_count', { outcome: 'committed' })).toBe(1);
  // The earlier scrape is counted too, under its own fixed name.
  expect(
    valueOf(after, 'http_requests_total', { operation: 'metrics', method: 'GET', status: '200' }),
  ).toBeGreaterThanOrEqual(1);
});

test('connector steps are timed by kind and outcome, and failures counted by scope', async () => {
  const before = await scrape();
  const run = (permalink: string) =>
    t.http.post(`/rest/connectors/v1/composite/${permalink}/execute`).set('Authorization', t.auth('user'));
  expect((await run('two')).status).toBe(200);
  expect((await run('failing')).status).toBe(502);
  const after = await scrape();
  const delta = (name: string, labels: Record<string, string>) =>
    valueOf(after, name, labels) - valueOf(before, name, labels);
  expect(delta('connector_step_duration_seconds_count', { connector: 'composite', outcome: 'ok' })).toBe(2);
  expect(delta('connector_step_duration_seconds_count', { connector: 'composite', outcome: 'failed' })).toBe(1);
  expect(delta('connector_step_failures_total', { scope: 'http' })).toBe(1);
});

test("the pool and Node's process metrics are there", async () => {
  const samples = await scrape();
  const max = t.config.database.kind === 'sqlite' ? 1 : t.config.db.poolMax;
  expect(valueOf(samples, 'db_pool_connections', { state: 'max' })).toBe(max);
  expect(samples.some((s) => s.name === 'db_pool_connections' && s.labels.state === 'used')).toBe(true);
  expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  expect(valueOf(samples, 'nodejs_heap_size_total_bytes')).toBeGreaterThan(0);
});

test('no label carries an id, a user name or a value from the request', async () => {
  const marker = 'zq7marker';
  await t.http.get('/rest/common/v1/activities/xc:987654').set('Authorization', t.auth('user'));
  await t.http.get(`/rest/common/v1/activities?filter=subject:eq:${marker}`).set('Authorization', t.auth('reader'));
  await t.http.get(`/rest/${marker}/v1/things/xc:987654?q=${marker}`).set('Authorization', t.auth('user'));
  await t.http.get(`/${marker}`);
  await t.http
    .get('/rest/common/v1/activities')
    .set('Authorization', `Basic ${Buffer.from(`${marker}:wrong-password`).toString('base64')}`);
  const res = await t.http.get('/metrics').set('Authorization', t.auth('admin'));
  for (const value of [marker, '987654', USERNAMES.user, USERNAMES.reader, 'wrong-password'])
    expect(res.text).not.toContain(value);
  const samples = parsePrometheus(res.text);
  expect(valueOf(samples, 'http_requests_total', { operation: 'getActivity', method: 'GET', status: '404' })).toBe(1);
  expect(
    valueOf(samples, 'http_requests_total', { operation: 'unmatched', method: 'GET', status: '404' }),
  ).toBeGreaterThanOrEqual(2);
  expect(
    valueOf(samples, 'http_requests_total', { operation: 'unmatched', method: 'GET', status: '401' }),
  ).toBeGreaterThanOrEqual(1);
  // Every operation label is an operation id of the route table or one of the fixed names.
  const allowed = new Set([
    ...t.operations.map((c) => c.op.operationId),
    'unmatched',
    'metrics',
    'openapi',
    'cors_preflight',
  ]);
  const operations = new Set(samples.filter((s) => s.labels.operation !== undefined).map((s) => s.labels.operation));
  expect([...operations].filter((o) => !allowed.has(o))).toEqual([]);
});

test('METRICS_PUBLIC=true serves /metrics without credentials, from a registry of its own app', async () => {
  const open = await startTestApp({ METRICS_PUBLIC: 'true' });
  try {
    const res = await open.http.get('/metrics');
    expect(res.status).toBe(200);
    const samples = parsePrometheus(res.text);
    // The other app's composites and connector runs are not in this app's registry.
    expect(valueOf(samples, 'subrequests_total', { source: 'composite_request' })).toBe(0);
    expect(valueOf(samples, 'connector_step_failures_total', { scope: 'http' })).toBe(0);
    expect(valueOf(samples, 'http_requests_total', { operation: 'createUser', method: 'POST', status: '201' })).toBe(2);
  } finally {
    await open.close();
  }
});
