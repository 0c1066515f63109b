// Secrets never follow a redirect to another origin. Two loopback servers on different ports are two
// origins: `home` redirects, `elsewhere` records what arrives. Steps follow same-origin redirects
// only unless they opt in ("follow_redirects": "any", which drops every header authentication or
// get_secret() produced); token requests never follow a redirect.
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from './upstream';

const SECRETS = {
  sig: 'sig-secret-1111',
  basic: 'basic-secret-2222',
  api_key: 'apikey-secret-3333',
  client_secret: 'client-secret-4444',
};
const ACCESS_TOKEN = 'access-token-secret-5555';

let t: TestApp;
let home: Upstream;
let elsewhere: Upstream;

const echo = (req: { method: string; headers: Record<string, unknown>; body: string }) => ({
  method: req.method,
  headers: req.headers,
  body: req.body,
});

beforeAll(async () => {
  elsewhere = await startUpstream((req, res) => json(res, 200, echo(req)));
  home = await startUpstream((req, res) => {
    if (req.url === '/to-elsewhere') return void res.writeHead(307, { location: `${elsewhere.url}/landed` }).end();
    if (req.url === '/to-home') return void res.writeHead(307, { location: '/landed' }).end();
    if (req.url === '/token')
      return json(res, 200, { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300 });
    if (req.url === '/token-moved') return void res.writeHead(307, { location: `${elsewhere.url}/token` }).end();
    json(res, 200, echo(req));
  });
  const dir = tempDir();
  const secrets = path.join(dir, 'secrets.json');
  writeJson(secrets, SECRETS);
  const step = (url: string, extra: Record<string, unknown> = {}) => ({
    name: 'only',
    url: `${home.url}${url}`,
    method: 'POST',
    request_body: '{"plain": "body"}',
    headers: [
      { key: 'X-Sig', value: "sig={{ get_secret('sig') }}" },
      { key: 'Authorization', value: "Basic {{ get_secret('basic') | base64_encode }}" },
      { key: 'X-Plain', value: 'visible' },
    ],
    authentication: { type: 'api_key', config: { key: 'X-Api-Key', value: "{{ get_secret('api_key') }}" } },
    ...extra,
  });
  const oauth = (tokenPath: string, clientAuth: string) => ({
    type: 'oauth_client_credentials',
    config: {
      token_url: `${home.url}${tokenPath}`,
      client_id: 'cid',
      client_secret: "{{ get_secret('client_secret') }}",
      client_auth: clientAuth,
    },
  });
  const connector = (permalink: string, s: Record<string, unknown>) => ({ name: permalink, permalink, steps: [s] });
  writeJson(path.join(dir, 'registry.json'), {
    composite_connectors: [
      connector('any', step('/to-elsewhere', { follow_redirects: 'any' })),
      connector('default', step('/to-elsewhere')),
      connector('same-origin', step('/to-home')),
      connector('none', step('/to-home', { follow_redirects: 'none' })),
      connector('oauth-any', {
        name: 'only',
        url: `${home.url}/to-elsewhere`,
        follow_redirects: 'any',
        authentication: oauth('/token', 'client_secret_post'),
      }),
      connector('token-moved-post', {
        name: 'only',
        url: `${home.url}/api`,
        authentication: oauth('/token-moved', 'client_secret_post'),
      }),
      connector('token-moved-basic', {
        name: 'only',
        url: `${home.url}/api`,
        authentication: oauth('/token-moved', 'client_secret_basic'),
      }),
      // The seed's pattern: a step addressed to token_url is the token request; later templates read the token from it.
      ...(['GET', 'POST'] as const).map((method) => ({
        name: `token data ${method}`,
        permalink: `token-data-${method.toLowerCase()}`,
        steps: [
          {
            name: 'auth',
            url: `${home.url}/token`,
            method: 'POST',
            authentication: oauth('/token', 'client_secret_post'),
          },
          {
            name: 'use',
            url: `${home.url}/to-elsewhere`,
            method,
            follow_redirects: 'any',
            headers: [
              { key: 'X-Token', value: "{{ steps.auth.body | from_json | attr('access_token') }}" },
              { key: 'X-Step', value: 'use' },
            ],
            ...(method === 'POST'
              ? { request_body: '{"token": "{{ steps.auth.body | from_json | attr(\'access_token\') }}"}' }
              : {}),
          },
        ],
      })),
    ],
  });
  t = await startTestApp({
    CONNECTORS_REGISTRY: path.join(dir, 'registry.json'),
    CONNECTOR_SECRETS_FILE: secrets,
    CONNECTORS_ALLOWED_HOSTS: `${home.host},${elsewhere.host}`,
  });
});

afterAll(async () => {
  await t.close();
  await home.close();
  await elsewhere.close();
});

const run = (permalink: string) =>
  t.http.post(`/rest/connectors/v1/composite/${permalink}/execute`).set('Authorization', t.auth('user'));

/** No secret value, in any encoding a template could have used, reached `elsewhere`. */
function expectNoSecretElsewhere(): void {
  const seen = JSON.stringify(elsewhere.requests);
  for (const secret of [...Object.values(SECRETS), ACCESS_TOKEN]) {
    expect(seen).not.toContain(secret);
    expect(seen).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

test('"follow_redirects": "any": the other origin gets the request without any secret header', async () => {
  const res = await run('any');
  expect(res.status).toBe(200);
  // 307 keeps the method and the (secret-free) body; the plain header survives, every secret one is gone.
  expect(res.body).toMatchObject({ method: 'POST', body: '{"plain": "body"}', headers: { 'x-plain': 'visible' } });
  expect(res.body.headers).not.toHaveProperty('x-sig');
  expect(res.body.headers).not.toHaveProperty('x-api-key');
  expect(res.body.headers).not.toHaveProperty('authorization');
  expect(elsewhere.requests).toHaveLength(1);
  expectNoSecretElsewhere();
});

test('by default a cross-origin redirect is refused, and the other origin receives nothing', async () => {
  const before = elsewhere.requests.length;
  const res = await run('default');
  expect(res.status).toBe(502);
  expect(res.body.errors.code).toBe('OUTBOUND_RULE');
  expect(res.body.errors.detail).toMatch(
    /redirects to another origin; this request follows same-origin redirects only/,
  );
  expect(elsewhere.requests.length).toBe(before);
  expect(JSON.stringify(res.body)).not.toMatch(/secret/);
});

test('a same-origin redirect is followed with every header', async () => {
  const res = await run('same-origin');
  expect(res.status).toBe(200);
  expect(res.body.headers).toMatchObject({
    'x-sig': `sig=${SECRETS.sig}`,
    'x-api-key': SECRETS.api_key,
    authorization: `Basic ${Buffer.from(SECRETS.basic).toString('base64')}`,
  });
});

test('"follow_redirects": "none": the redirect is the answer', async () => {
  const before = home.requests.length;
  const res = await run('none');
  expect(res.status).toBe(307);
  expect(home.requests.length).toBe(before + 1);
});

test('an OAuth bearer token is not sent to the other origin', async () => {
  const res = await run('oauth-any');
  expect(res.status).toBe(200);
  expect(res.body.headers).not.toHaveProperty('authorization');
  expect(home.requests.some((r) => r.url === '/token' && r.body.includes('client_secret=client-secret-4444'))).toBe(
    true,
  );
  expectNoSecretElsewhere();
});

test.each(['post', 'basic'])(
  'a token endpoint answering 307 is a clear failure, with no second request (client_secret_%s)',
  async (kind) => {
    const tokenCalls = () => home.requests.filter((r) => r.url === '/token-moved').length;
    const before = tokenCalls();
    const elsewhereBefore = elsewhere.requests.length;
    const res = await run(`token-moved-${kind}`);
    expect(res.status).toBe(502);
    expect(res.body.errors).toMatchObject({
      code: 'TOKEN_REQUEST_REDIRECTED',
      scope: "Composite step 'only' (index 0): Downstream (HTTP error)",
    });
    expect(res.body.errors.detail).toMatch(
      /token endpoint answered HTTP 307 \(a redirect\); token requests never follow redirects/,
    );
    expect(tokenCalls()).toBe(before + 1);
    expect(elsewhere.requests.length).toBe(elsewhereBefore);
    expect(JSON.stringify(res.body)).not.toContain(SECRETS.client_secret);
  },
);

test('a header rendered from a token response is dropped on a cross-origin redirect', async () => {
  const res = await run('token-data-get');
  expect(res.status).toBe(200);
  expect(res.body.headers).toMatchObject({ 'x-step': 'use' });
  expect(res.body.headers).not.toHaveProperty('x-token');
  expectNoSecretElsewhere();
});

test('a body rendered from a token response is not sent again to another origin', async () => {
  const before = elsewhere.requests.length;
  const res = await run('token-data-post');
  expect(res.status).toBe(502);
  expect(res.body.errors.code).toBe('OUTBOUND_RULE');
  expect(res.body.errors.detail).toMatch(
    /redirects the request body, which holds a secret, to another origin; it is not sent again/,
  );
  expect(elsewhere.requests.length).toBe(before);
  // The first origin got it, as written.
  expect(home.requests.some((r) => r.url === '/to-elsewhere' && r.body.includes(ACCESS_TOKEN))).toBe(true);
});
