// When PostgreSQL goes away under a running server, /readyz says so with 503 and API calls answer 503
// (not 500) while /healthz (the process) stays 200; when it comes back, both recover without a restart.
import { Client } from 'pg';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { databaseUrl } from './helpers';

let t: TestApp;
let admin: Client;
let database: string;

beforeAll(async () => {
  t = await startTestApp();
  // The server's maintenance database: a database cannot lock itself out.
  admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  database = new URL(databaseUrl(t)).pathname.slice(1);
});
afterAll(async () => {
  await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
  await admin.end();
  await t.close();
});

test('readyz and the API answer 503 while the database refuses connections, and recover after', async () => {
  expect((await t.http.get('/readyz')).status).toBe(200);
  // Refuse new connections and cut the app's existing ones: what a database restart or failover looks like.
  await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);

  await new Promise((r) => setTimeout(r, 1100)); // past the cached answer
  const ready = await t.http.get('/readyz');
  expect(ready.status).toBe(503);
  expect(ready.headers['retry-after']).toBe('5');
  expect(ready.body).toMatchObject({
    status: 503,
    userMessage: 'Not ready: The database is not reachable',
    details: [{ properties: { check: 'database' } }],
  });
  expect((await t.http.get('/healthz')).status).toBe(200);
  const api = await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('user'));
  expect(api.status).toBe(503);
  expect(api.body.errorCode).toBe('gw.api.rest.exception.ServiceUnavailableException');
  expect(api.headers['retry-after']).toBeDefined();
  expect(JSON.stringify(api.body)).not.toMatch(/postgres|password|ALLOW_CONNECTIONS|select/i);

  await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
  await new Promise((r) => setTimeout(r, 1100));
  expect((await t.http.get('/readyz')).status).toBe(200);
  expect((await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('user'))).status).toBe(200);
});
