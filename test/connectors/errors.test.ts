// Every connector error scope over HTTP: a step's 4xx/5xx (502), a network failure and a time-out
// (502), a template that cannot render (422), an unknown permalink (404), X-Path-Params on a
// composite (400) — none carrying an earlier step's data or a secret — and connectors refused
// inside a transactional composite.
import net from 'node:net';
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from './upstream';

const SECRET = 'hunter2-secret-token-value';
const EARLIER_DATA = 'earlier-step-private-data-123';
let t: TestApp;
let api: Upstream;
let closedPort: number;

beforeAll(async () => {
  api = await startUpstream((req, res) => {
    if (req.url === '/first') return json(res, 200, { private: EARLIER_DATA });
    if (req.url === '/fail') return json(res, 503, { echo: EARLIER_DATA });
    // Answers after the connector time-out; the test never waits for it.
    if (req.url === '/slow') return void setTimeout(() => json(res, 200, { late: true }), 5000).unref();
    json(res, 200, { ok: true });
  });
  // A port with nothing listening: grab one, then close it.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const dir = tempDir();
  const registry = path.join(dir, 'connectors_registry.json');
  const first = {
    name: 'first',
    url: `${api.url}/first`,
    headers: [{ key: 'X-Key', value: "{{ get_secret('key') }}" }],
  };
  const composite = (permalink: string, second: Record<string, unknown>) => ({
    name: permalink,
    permalink,
    steps: [first, { name: 'second', ...second }],
  });
  writeJson(registry, {
    connectors: [{ name: 'Plain', permalink: 'plain', url: `${api.url}/ok` }],
    composite_connectors: [
      composite('http-error', { url: `${api.url}/fail` }),
      composite('network-error', { url: `http://127.0.0.1:${closedPort}/x` }),
      composite('slow', { url: `${api.url}/slow` }),
      composite('bad-template', {
        url: `${api.url}/ok`,
        request_body: "{{ steps.first.body | from_json | attr('private') | from_json }}",
        method: 'POST',
      }),
      composite('bad-json-template', { url: `${api.url}/ok?x={{ (steps.first.body ~ 'x') | from_json }}` }),
      composite('good', { url: `${api.url}/ok` }),
    ],
  });
  t = await startTestApp({
    CONNECTORS_REGISTRY: registry,
    CONNECTOR_SECRET_KEY: SECRET,
    CONNECTORS_ALLOWED_HOSTS: `${api.host},127.0.0.1:${closedPort}`,
    CONNECTOR_TIMEOUT_MS: '300',
  });
});

afterAll(async () => {
  await t.close();
  await api.close();
});

const run = (permalink: string) =>
  t.http.post(`/rest/connectors/v1/composite/${permalink}/execute`).set('Authorization', t.auth('user'));

function expectClean(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toContain(EARLIER_DATA);
  expect(text).not.toContain(SECRET);
}

test('a step answering 5xx: 502, HTTP error scope naming the step', async () => {
  const res = await run('http-error');
  expect(res.status).toBe(502);
  expect(res.body).toMatchObject({
    success: false,
    errors: { code: 'DOWNSTREAM_HTTP_ERROR', scope: "Composite step 'second' (index 1): Downstream (HTTP error)" },
    status: 502,
  });
  expect(res.body.errors.detail).toContain('503');
  expect(typeof res.body.request_id).toBe('string');
  expect(res.headers['server-timing']).toMatch(/step\.first;dur=.*step\.second;dur=.*total;dur=/);
  expectClean(res.body);
});

test('a refused connection: 502, network scope', async () => {
  const res = await run('network-error');
  expect(res.status).toBe(502);
  expect(res.body.errors).toMatchObject({
    code: 'DOWNSTREAM_NETWORK_ERROR',
    scope: "Composite step 'second' (index 1): Downstream (network/external service)",
  });
  expectClean(res.body);
});

test('a slow step times out after CONNECTOR_TIMEOUT_MS: 502, network scope', async () => {
  const res = await run('slow');
  expect(res.status).toBe(502);
  expect(res.body.errors).toMatchObject({
    code: 'DOWNSTREAM_TIMEOUT',
    scope: "Composite step 'second' (index 1): Downstream (network/external service)",
  });
  expect(res.body.errors.detail).toContain('300 ms');
  expectClean(res.body);
});

test.each(['bad-template', 'bad-json-template'])('%s: 422, template scope, no earlier data', async (permalink) => {
  const res = await run(permalink);
  expect(res.status).toBe(422);
  expect(res.body.errors).toMatchObject({
    code: 'TEMPLATE_RENDERING_ERROR',
    scope: "Composite step 'second' (index 1): Configuration (template rendering)",
  });
  expect(res.body.errors.detail).toMatch(/from_json was given text that is not valid JSON/);
  expectClean(res.body);
});

test('an unknown permalink: 404 for composite and simple connectors', async () => {
  for (const url of ['/rest/connectors/v1/composite/nope/execute', '/rest/connectors/v1/connectors/nope/execute']) {
    const res = await t.http.post(url).set('Authorization', t.auth('user'));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, errors: { code: 'CONNECTOR_NOT_FOUND' }, status: 404 });
  }
  const get = await t.http.get('/rest/connectors/v1/composite/nope').set('Authorization', t.auth('user'));
  expect(get.status).toBe(404);
});

test('X-Path-Params on a composite connector: 400 and nothing is sent', async () => {
  const calls = api.requests.length;
  const res = await run('good').set('X-Path-Params', '{"id":"1"}');
  expect(res.status).toBe(400);
  expect(res.body.errors).toMatchObject({
    code: 'PATH_PARAMS_NOT_SUPPORTED',
    scope: "Connector 'good': Request (path parameters)",
  });
  expect(api.requests.length).toBe(calls);
});

test('the step that succeeded sent the secret header; the error log holds no secret', async () => {
  const res = await run('good');
  expect(res.status).toBe(200);
  expect(api.requests.find((r) => r.url === '/first')?.headers['x-key']).toBe(SECRET);
  expect(t.logs.join('\n')).not.toContain(SECRET);
  expect(t.logs.join('\n')).not.toContain(EARLIER_DATA);
});

test('any body and content type is accepted and the query string is free-form', async () => {
  const res = await run('good')
    .query({ anything: 'goes', list: ['a', 'b'] })
    .set('Content-Type', 'text/csv')
    .send('a,b\n1,2');
  expect(res.status).toBe(200);
});

test('connectors cannot run inside a transactional composite', async () => {
  const res = await t.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', t.auth('user'))
    .send({ requests: [{ method: 'post', uri: '/connectors/v1/composite/good/execute', body: {} }] });
  expect(res.status).toBe(400);
  expect(JSON.stringify(res.body)).toMatch(/executeCompositeConnector is not allowed in a composite/);
  const openapi = await t.http.get('/rest/connectors/v1/openapi.json').set('Authorization', t.auth('user'));
  for (const item of Object.values(openapi.body.paths) as Array<
    Record<string, { 'x-gw-allowForCompositeApi': boolean }>
  >) {
    for (const op of Object.values(item)) expect(op['x-gw-allowForCompositeApi']).toBe(false);
  }
});
