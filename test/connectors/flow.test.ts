// The seed's auth-and-fetch-user flow end to end against a real OAuth token endpoint
// (oauth2-mock-server) and a real API that verifies the token; token caching and sharing,
// refresh-and-retry on 401, request data in templates, response_body, timing headers,
// simple connectors with api_key and X-Path-Params, and listings that show no secrets.
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startOAuth, startUpstream, tempDir, writeJson, type OAuthServer, type Upstream } from './upstream';

let t: TestApp;
let oauth: OAuthServer;
let api: Upstream;
let rejectNextToken = false;
const CLIENT_SECRET = 'cs-very-secret-value-42';
const API_KEY = 'ak-super-secret-key-77';

beforeAll(async () => {
  oauth = await startOAuth();
  const jwks = createLocalJWKSet({ keys: oauth.server.issuer.keys.toJSON() as never });
  api = await startUpstream((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/items/')) {
      if (req.headers['x-api-key'] !== API_KEY) return json(res, 401, { error: 'no key' });
      return json(res, 200, { item: url.pathname.slice('/items/'.length), q: url.searchParams.get('q') });
    }
    const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (rejectNextToken && url.pathname.startsWith('/profiles/')) {
      rejectNextToken = false;
      return json(res, 401, { error: 'token revoked' });
    }
    jwtVerify(token, jwks, { issuer: oauth.server.issuer.url ?? undefined })
      .then(() => {
        if (url.pathname === '/users/me') return json(res, 200, { id: 'usr_me', name: 'Me' });
        const id = /^\/(users|profiles)\/(.+)$/.exec(url.pathname);
        if (id) return json(res, 200, { id: id[2], format: url.searchParams.get('format') });
        json(res, 404, { error: 'nope' });
      })
      .catch(() => json(res, 401, { error: 'bad token' }));
  });
  const dir = tempDir();
  const registry = path.join(dir, 'connectors_registry.json');
  const secrets = path.join(dir, 'secrets.json');
  writeJson(secrets, { oauth_client_id: 'widget-client', api_key: API_KEY });
  const oauthConfig = {
    client_id: "{{ get_secret('oauth_client_id') }}",
    client_secret: "{{ get_secret('oauth_client_secret') }}",
    token_url: oauth.tokenUrl,
  };
  writeJson(registry, {
    connectors: [
      {
        name: 'Item lookup',
        permalink: 'item-lookup',
        method: 'GET',
        url: `${api.url}/items/{{ pathParams.itemId }}`,
        query_parameters: [{ key: 'q', value: '{{ query_parameters.q }}' }],
        authentication: {
          type: 'api_key',
          config: { key: 'X-Api-Key', value: "{{ get_secret('api_key') }}", in: 'header' },
        },
      },
    ],
    composite_connectors: [
      // The seed's example entry, verbatim except for the hosts.
      {
        name: 'Auth and Fetch User',
        permalink: 'auth-and-fetch-user',
        steps: [
          {
            name: 'auth',
            url: oauth.tokenUrl,
            method: 'POST',
            headers: [{ key: 'Content-Type', value: 'application/json' }],
            authentication: { type: 'oauth_client_credentials', config: oauthConfig },
          },
          {
            name: 'fetch-user',
            url: `${api.url}/users/me`,
            method: 'GET',
            headers: [
              { key: 'Authorization', value: "Bearer {{ steps.auth.body | from_json | attr('access_token') }}" },
            ],
          },
        ],
      },
      {
        name: 'User by id',
        permalink: 'user-by-id',
        steps: [
          {
            name: 'auth',
            url: oauth.tokenUrl,
            method: 'POST',
            authentication: { type: 'oauth_client_credentials', config: oauthConfig },
            response_body: "{{ response.body | from_json | attr('access_token') }}",
          },
          {
            name: 'fetch-user',
            url:
              '{# the id comes from the client #}' +
              `${api.url}/users/{{ request.body_text | from_json | attr('userId') }}?format={{ request.query_parameters.format }}`,
            headers: [{ key: 'Authorization', value: 'Bearer {{ steps.auth.body }}' }],
          },
          {
            name: 'shape',
            url: `${api.url}/profiles/{{ steps['fetch-user'].body | from_json | attr('id') }}?format={{ request.query_parameters.format }}`,
            authentication: { type: 'oauth_client_credentials', config: oauthConfig },
            response_body: '{"user": {{ response.body }}, "previous_status": {{ steps[\'fetch-user\'].status_code }}}',
          },
        ],
      },
    ],
  });
  t = await startTestApp({
    CONNECTORS_REGISTRY: registry,
    CONNECTOR_SECRETS_FILE: secrets,
    CONNECTOR_SECRET_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    CONNECTORS_ALLOWED_HOSTS: `${oauth.host},${api.host}`,
  });
});

afterAll(async () => {
  await t.close();
  await api.close();
  await oauth.close();
});

const execute = (permalink: string) =>
  t.http.post(`/rest/connectors/v1/composite/${permalink}/execute`).set('Authorization', t.auth('user'));

test("the seed's auth-and-fetch-user flow returns the last step's response", async () => {
  const res = await execute('auth-and-fetch-user');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({ id: 'usr_me', name: 'Me' });
  expect(oauth.tokenRequests).toHaveLength(1);
  expect(oauth.tokenRequests[0]).toMatchObject({
    grant_type: 'client_credentials',
    client_id: 'widget-client',
    client_secret: CLIENT_SECRET,
  });
});

test('timing headers name every step and the total', async () => {
  const res = await execute('auth-and-fetch-user');
  expect(res.headers['server-timing']).toMatch(
    /^step\.auth;dur=[\d.]+;desc="Step: auth", step\.fetch-user;dur=[\d.]+;desc="Step: fetch-user", total;dur=[\d.]+;desc="Total"$/,
  );
  const timing = JSON.parse(res.headers['x-connector-timing']);
  expect(typeof timing.total_ms).toBe('number');
  expect(
    timing.steps.map((s: { name: string; index: number; status_code: number }) => [s.name, s.index, s.status_code]),
  ).toEqual([
    ['auth', 0, 200],
    ['fetch-user', 1, 200],
  ]);
});

test('the token is cached across executions, steps and connectors with the same credentials', async () => {
  const before = oauth.tokenRequests.length;
  for (let i = 0; i < 3; i++) expect((await execute('auth-and-fetch-user')).status).toBe(200);
  const res = await execute('user-by-id')
    .query({ format: 'compact' })
    .set('Content-Type', 'application/json')
    .send({ userId: 'usr_123' });
  expect(res.status).toBe(200);
  // The last step's response_body saw its own response and the earlier step's status.
  expect(res.text).toBe('{"user": {"id":"usr_123","format":"compact"}, "previous_status": 200}');
  expect(oauth.tokenRequests.length - before).toBe(0);
});

test('a 401 refreshes the token once and retries the step', async () => {
  const before = oauth.tokenRequests.length;
  const apiCalls = api.requests.length;
  rejectNextToken = true;
  const res = await execute('user-by-id').set('Content-Type', 'application/json').send({ userId: 'usr_9' });
  expect(res.status).toBe(200);
  // fetch-user uses steps.auth.body (no retry of its own); the 'shape' step has oauth and was retried.
  expect(oauth.tokenRequests.length - before).toBe(1);
  expect(api.requests.length - apiCalls).toBe(3);
});

test('a simple connector takes X-Path-Params, query parameters and an api_key from the secrets', async () => {
  const res = await t.http
    .post('/rest/connectors/v1/connectors/item-lookup/execute?q=blue')
    .set('Authorization', t.auth('user'))
    .set('X-Path-Params', JSON.stringify({ itemId: 'abc-1.2_~' }));
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ item: 'abc-1.2_~', q: 'blue' });
  expect(res.headers['server-timing']).toMatch(/^step\.item-lookup;dur=[\d.]+;desc="Step: item-lookup", total;dur=/);
});

test.each([
  ['missing', undefined, /missing path parameter "itemId"/],
  ['dot-dot', { itemId: '..' }, /must be 1-200/],
  ['slash', { itemId: 'a/b' }, /must be 1-200/],
  ['too long', { itemId: 'a'.repeat(201) }, /must be 1-200/],
  ['unknown key', { itemId: 'a', other: 'b' }, /"other" is not used/],
  ['not JSON', 'nope', /must be a JSON object/],
])('path parameters %s: 400 before anything is sent', async (_label, params, message) => {
  const calls = api.requests.length;
  const req = t.http.post('/rest/connectors/v1/connectors/item-lookup/execute').set('Authorization', t.auth('user'));
  if (params !== undefined) req.set('X-Path-Params', typeof params === 'string' ? params : JSON.stringify(params));
  const res = await req;
  expect(res.status).toBe(400);
  expect(res.body.success).toBe(false);
  expect(res.body.errors.detail).toMatch(message);
  expect(res.body.errors.scope).toBe("Connector 'item-lookup': Request (path parameters)");
  expect(api.requests.length).toBe(calls);
});

test('listings show definitions but never auth config, header values or secrets', async () => {
  for (const url of [
    '/rest/connectors/v1/composite',
    '/rest/connectors/v1/connectors',
    '/rest/connectors/v1/composite/auth-and-fetch-user',
  ]) {
    const res = await t.http.get(url).set('Authorization', t.auth('reader'));
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    for (const hidden of [CLIENT_SECRET, API_KEY, 'get_secret', 'config', 'client_id', 'Bearer'])
      expect(text).not.toContain(hidden);
  }
  const one = await t.http
    .get('/rest/connectors/v1/composite/auth-and-fetch-user')
    .set('Authorization', t.auth('reader'));
  expect(one.body.data).toMatchObject({
    name: 'Auth and Fetch User',
    permalink: 'auth-and-fetch-user',
    steps: [
      { name: 'auth', method: 'POST', headers: ['Content-Type'], authentication: { type: 'oauth_client_credentials' } },
      { name: 'fetch-user', method: 'GET', headers: ['Authorization'], authentication: { type: 'none' } },
    ],
  });
  const simple = await t.http.get('/rest/connectors/v1/connectors').set('Authorization', t.auth('user'));
  expect(simple.body.data[0]).toMatchObject({
    permalink: 'item-lookup',
    pathParams: ['itemId'],
    authentication: { type: 'api_key' },
  });
});

test('readers may list but not execute; secrets never reach the log', async () => {
  const res = await execute('auth-and-fetch-user').set('Authorization', t.auth('reader'));
  expect(res.status).toBe(403);
  const logs = t.logs.join('\n');
  expect(logs).not.toContain(CLIENT_SECRET);
  expect(logs).not.toContain(API_KEY);
});

test('a cached token is renewed shortly before it expires, not after', async () => {
  const { Outbound } = await import('../../src/connectors/outbound');
  const { TokenCache, renewAt } = await import('../../src/connectors/oauth');
  expect(renewAt(0, 3600)).toBe(3600000 - 30000);
  expect(renewAt(0, 60)).toBe(54000);
  let now = 1_000_000;
  const outbound = new Outbound([oauth.host], 5000);
  const cache = new TokenCache(outbound, () => now);
  const creds = {
    tokenUrl: oauth.tokenUrl,
    clientId: 'clock-client',
    clientSecret: 's',
    clientAuth: 'client_secret_basic' as const,
  };
  try {
    const before = oauth.tokenRequests.length;
    expect((await cache.get(creds)).fetched).toBe(true);
    now += 3600 * 1000 - 31000;
    expect((await cache.get(creds)).fetched).toBe(false);
    now += 2000;
    expect((await cache.get(creds)).fetched).toBe(true);
    expect((await cache.get({ ...creds, scope: 'other' })).fetched).toBe(true);
    expect(oauth.tokenRequests.length - before).toBe(3);
  } finally {
    await outbound.close();
  }
});
