// A real server process on a PostgreSQL database that is then dropped under it: /readyz answers 503
// naming the database (the process stays alive: /healthz 200), and the API answers 503, not 500.
import { freshPostgresDatabase, type FreshDatabase } from '../helpers/database';
import { buildServer, startServer, type ServerProcess } from '../helpers/serverProcess';
import { basic } from '../helpers/testApp';

const ADMIN = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'readiness-test-pw' };
let db: FreshDatabase;
let server: ServerProcess;

beforeAll(async () => {
  const entry = buildServer();
  db = await freshPostgresDatabase();
  server = await startServer(entry, { DATABASE_URL: db.url, ...ADMIN });
}, 120000);
afterAll(async () => {
  server?.child.kill('SIGKILL');
  await server?.exited;
  await db?.drop();
});

test('/readyz answers 503 once the database is dropped; /healthz stays 200', async () => {
  const base = `http://127.0.0.1:${server.port}`;
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  await db.drop(); // WITH (FORCE): the server's connections are cut, and the database is gone
  await new Promise((r) => setTimeout(r, 1100)); // past the cached answer
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toBe('5');
  const body = await ready.json();
  expect(body).toMatchObject({
    status: 503,
    errorCode: 'gw.api.rest.exception.ServiceUnavailableException',
    userMessage: 'Not ready: The database is not reachable',
  });
  expect(body.details[0].properties).toEqual({ check: 'database', code: '3D000' });
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const api = await fetch(`${base}/rest/common/v1/activities`, {
    headers: { Authorization: basic(ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD) },
  });
  expect(api.status).toBe(503);
});
