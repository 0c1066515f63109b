// GET /healthz and GET /readyz over HTTP on the test database (SQLite, or PostgreSQL with
// TEST_DATABASE_URL): no credentials needed, never in the request log, and /readyz refuses with the
// SPEC §2 body and the reason when the migrations are not current.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('/healthz and /readyz answer 200 without credentials and leave no request log line', async () => {
  const before = t.logs.length;
  const health = await t.http.get('/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toEqual({ status: 'ok' });
  const ready = await t.http.get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ok' });
  expect(ready.headers['cache-control']).toBe('no-store');
  // An API call in between is logged, so the log sink is live and only the probes are left out.
  await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('user'));
  const lines = t.logs.slice(before).join('');
  expect(lines).toContain('/activities');
  expect(lines).not.toMatch(/healthz|readyz/);
});

test('/readyz answers 503 naming the migrations while one has not run, and 200 once it has', async () => {
  const row = await t.knex('knex_migrations').orderBy('id', 'desc').first();
  await t.knex('knex_migrations').where({ id: row.id }).delete();
  try {
    await sleep(1100); // past the cached answer
    const res = await t.http.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({
      status: 503,
      errorCode: 'gw.api.rest.exception.ServiceUnavailableException',
      userMessage: 'Not ready: 1 database migration(s) have not run',
      details: [{ properties: { check: 'migrations' } }],
    });
    // Liveness does not depend on the database.
    expect((await t.http.get('/healthz')).status).toBe(200);
  } finally {
    await t.knex('knex_migrations').insert(row);
  }
  await sleep(1100);
  expect((await t.http.get('/readyz')).status).toBe(200);
});
