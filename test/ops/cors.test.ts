// CORS over HTTP: a preflight from an origin in CORS_ORIGINS is answered before authentication with
// the right Access-Control-* headers; one from any other origin (or with no CORS_ORIGINS at all) is
// refused with 403 and no Access-Control-Allow-Origin; real answers, errors included, carry the
// headers a browser needs to read them.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { CORS_ALLOWED_HEADERS } from '../../src/http/cors';

const ALLOWED = 'https://app.example.test';
const OTHER = 'https://evil.example.test';
const ACTIVITIES = '/rest/common/v1/activities';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` });
});
afterAll(() => t.close());

const preflight = (app: TestApp, origin: string, method = 'POST') =>
  app.http
    .options(ACTIVITIES)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', method)
    .set(
      'Access-Control-Request-Headers',
      'authorization,content-type,gw-dbtransaction-id,idempotency-key,gw-checksum',
    );

test('a preflight from an allowed origin passes without credentials, with the Access-Control-* headers', async () => {
  const res = await preflight(t, ALLOWED);
  expect(res.status).toBe(204);
  expect(res.headers['www-authenticate']).toBeUndefined();
  expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
  expect(res.headers['access-control-allow-methods']).toBe('GET,HEAD,POST,PATCH,DELETE');
  const headers = res.headers['access-control-allow-headers'].toLowerCase().split(',');
  for (const h of CORS_ALLOWED_HEADERS) expect(headers).toContain(h.toLowerCase());
  for (const h of ['authorization', 'gw-checksum', 'gw-dbtransaction-id', 'idempotency-key'])
    expect(headers).toContain(h);
  expect(res.headers['access-control-max-age']).toBe('600');
  expect(res.headers.vary).toMatch(/Origin/);
  expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  expect((await preflight(t, 'http://localhost:5173', 'DELETE')).headers['access-control-allow-origin']).toBe(
    'http://localhost:5173',
  );
});

test('a preflight from another origin is refused with 403 and no Access-Control-Allow-Origin', async () => {
  for (const origin of [OTHER, 'https://app.example.test.evil.test', 'http://app.example.test', 'null']) {
    const res = await preflight(t, origin);
    expect(res.status).toBe(403);
    expect(res.body.errorCode).toBe('gw.api.rest.exception.PermissionDeniedException');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-headers']).toBeUndefined();
  }
});

test('answers to an allowed origin expose the headers a browser client reads; others get no CORS headers', async () => {
  const created = await t.http
    .post(ACTIVITIES)
    .set('Origin', ALLOWED)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'from a browser' } } });
  expect(created.status).toBe(201);
  expect(created.headers['access-control-allow-origin']).toBe(ALLOWED);
  const exposed = created.headers['access-control-expose-headers'].split(',');
  for (const h of ['Server-Timing', 'GW-Checksum', 'Location', 'GW-Async-Location', 'Idempotent-Replayed'])
    expect(exposed).toContain(h);
  // An error is readable by the page too, so it can show why.
  const refused = await t.http.get(ACTIVITIES).set('Origin', ALLOWED);
  expect(refused.status).toBe(401);
  expect(refused.headers['access-control-allow-origin']).toBe(ALLOWED);
  const foreign = await t.http.get(ACTIVITIES).set('Origin', OTHER).set('Authorization', t.auth('user'));
  expect(foreign.status).toBe(200);
  expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  expect(foreign.headers['access-control-expose-headers']).toBeUndefined();
});

test('without CORS_ORIGINS a preflight is refused with 403, not 401', async () => {
  const closed = await startTestApp();
  try {
    const res = await preflight(closed, ALLOWED);
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['www-authenticate']).toBeUndefined();
    const plain = await closed.http.get(ACTIVITIES).set('Origin', ALLOWED).set('Authorization', closed.auth('user'));
    expect(plain.status).toBe(200);
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
  } finally {
    await closed.close();
  }
});
