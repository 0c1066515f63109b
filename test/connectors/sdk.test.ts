// The TypeScript client against the running server (listening on a real port, using fetch):
// simple and composite connector execution, ConnectorBoundaryError thrown synchronously with
// nothing sent, typed errors carrying errors.scope, and composite.run.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  ApiRequestError,
  ConnectorBoundaryError,
  ConnectorExecutionError,
  createClient,
  type CompositeApiClient,
} from '../../src/client';
import { PASSWORDS, USERNAMES, startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from './upstream';

let t: TestApp;
let api: Upstream;
let server: Server;
let baseUrl: string;
let client: CompositeApiClient;
let fetchCalls = 0;

beforeAll(async () => {
  api = await startUpstream((req, res) => {
    if (req.url.startsWith('/fail')) return json(res, 500, {});
    json(res, 200, { url: req.url, body: req.body, contentType: req.headers['content-type'] ?? null });
  });
  const file = path.join(tempDir(), 'connectors_registry.json');
  writeJson(file, {
    connectors: [
      {
        name: 'Item',
        permalink: 'item',
        method: 'POST',
        url: `${api.url}/items/{{ pathParams.id }}?q={{ query_parameters.q }}`,
      },
    ],
    composite_connectors: [
      {
        name: 'User flow',
        permalink: 'user-flow',
        steps: [
          {
            name: 'lookup',
            url: `${api.url}/users/{{ request.body_text | from_json | attr('userId') }}?format={{ request.query_parameters.format }}`,
          },
          {
            name: 'fetch-user',
            url: `${api.url}/final`,
            method: 'POST',
            request_body: "{{ steps.lookup.body | from_json | attr('url') }}",
          },
        ],
      },
      {
        name: 'Broken',
        permalink: 'broken',
        steps: [
          { name: 'ok', url: `${api.url}/ok` },
          { name: 'fetch-user', url: `${api.url}/fail` },
        ],
      },
    ],
  });
  t = await startTestApp({ CONNECTORS_REGISTRY: file, CONNECTORS_ALLOWED_HOSTS: api.host });
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const counting: typeof fetch = (input, init) => {
    fetchCalls++;
    return fetch(input, init);
  };
  client = createClient({
    baseUrl,
    credentials: { username: USERNAMES.user, password: PASSWORDS.user },
    fetch: counting,
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
  await api.close();
});

test('connectors.composite.execute runs the flow with payload and queryParams', async () => {
  const data = await client.connectors.composite.execute({
    permalink: 'user-flow',
    payload: { userId: 'usr_123' },
    queryParams: { format: 'json' },
  });
  expect(data).toEqual({ url: '/final', body: '/users/usr_123?format=json', contentType: null });
});

test('connectors.execute sends pathParams, queryParams and the payload', async () => {
  const data = await client.connectors.execute({
    permalink: 'item',
    pathParams: { id: 'a-1' },
    queryParams: { q: 'x' },
    payload: { hello: 'world' },
  });
  expect(data).toEqual({ url: '/items/a-1?q=x', body: '{"hello":"world"}', contentType: 'application/json' });
});

test('pathParams on a composite connector throws ConnectorBoundaryError synchronously and sends nothing', () => {
  const before = { fetch: fetchCalls, upstream: api.requests.length };
  const call = () => client.connectors.composite.execute({ permalink: 'user-flow', pathParams: { id: '1' } } as never);
  expect(call).toThrow(ConnectorBoundaryError);
  expect(fetchCalls).toBe(before.fetch);
  expect(api.requests.length).toBe(before.upstream);
});

test('a failed step rejects with a ConnectorExecutionError carrying errors.scope', async () => {
  const err = await client.connectors.composite.execute({ permalink: 'broken' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectorExecutionError);
  const e = err as ConnectorExecutionError;
  expect(e.status).toBe(502);
  expect(e.scope).toBe("Composite step 'fetch-user' (index 1): Downstream (HTTP error)");
  expect(e.code).toBe('DOWNSTREAM_HTTP_ERROR');
  expect(typeof e.requestId).toBe('string');
});

test('an unknown permalink rejects with status 404', async () => {
  const err = await client.connectors.execute({ permalink: 'nope' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectorExecutionError);
  expect((err as ConnectorExecutionError).status).toBe(404);
});

test('composite.run posts a composite request; a failed one rejects with its body', async () => {
  const ok = await client.composite.run({
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'From the SDK' } } },
        vars: [{ name: 'id', path: '$.data.attributes.id' }],
      },
    ],
    selections: [{ uri: '/common/v1/activities/${id}' }],
  });
  expect(ok.responses).toHaveLength(1);
  expect(
    (ok.selections?.[0] as { body: { data: { attributes: { subject: string } } } }).body.data.attributes.subject,
  ).toBe('From the SDK');
  const err = await client.composite
    .run({
      requests: [
        { method: 'patch', uri: '/common/v1/activities/xc:999999', body: { data: { attributes: { subject: 'x' } } } },
      ],
    })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiRequestError);
  expect((err as ApiRequestError).status).toBe(400);
  expect((err as ApiRequestError).body).toMatchObject({ requestFailed: true });
});

test('wrong credentials reject with a typed 401', async () => {
  const bad = createClient({ baseUrl, credentials: { username: 'alice', password: 'wrong-password' } });
  const err = await bad.connectors.composite.list().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiRequestError);
  expect((err as ApiRequestError).status).toBe(401);
  expect((err as ApiRequestError).errorCode).toMatch(/Unauthenticated/);
});
