// Over HTTP: who a Basic header names is read afresh for every request, whoever changed the users
// table — this server, or another process on the same database — so a deactivated, deleted,
// re-roled or re-passworded user is treated accordingly on the very next request, also after many
// requests with the same header (the verified-password cache never stands in for the row).
import { basic, startTestApp, type TestApp } from '../helpers/testApp';
import { builtDist, spawnProc } from '../helpers/distServer';
import { expectError } from '../api/expectError';

let t: TestApp;
let env: Record<string, string>;
const USERS = '/rest/admin/v1/users';

beforeAll(async () => {
  builtDist();
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
  const db = t.config.database;
  env = { DATABASE_URL: db.kind === 'sqlite' ? `sqlite:${db.filename}` : db.url };
}, 120000);
afterAll(async () => t.close());

/** Sets `active` of a user from another process, through the server's own database code. */
async function setActiveElsewhere(username: string, active: boolean): Promise<void> {
  const script = `
    const { loadConfig } = require('./dist/src/config');
    const { createKnex } = require('./dist/src/db/knex');
    const config = loadConfig(process.env);
    const knex = createKnex(config.database, config.db);
    knex('users').where({ username: process.argv[1] }).update({ active: process.argv[2] === 'true' })
      .then((n) => { if (n !== 1) throw new Error('changed ' + n + ' rows'); })
      .finally(() => knex.destroy());`;
  const proc = spawnProc(process.execPath, ['-e', script, username, String(active)], env);
  const { code } = await proc.exited;
  expect({ code, output: proc.output() }).toEqual({ code: 0, output: '' });
}

async function createUser(username: string, password: string, roles: string[]): Promise<string> {
  const res = await t.http
    .post(USERS)
    .set('Authorization', t.auth('admin'))
    .send({ data: { attributes: { username, password, roles } } });
  expect(res.status).toBe(201);
  return res.body.data.attributes.id as string;
}

const list = (auth: string) => t.http.get('/rest/common/v1/activities').set('Authorization', auth);

test('a user deactivated by another process is refused on the next request, and let in again once reactivated', async () => {
  await createUser('erin', 'erin-password-1', ['user']);
  const erin = basic('erin', 'erin-password-1');
  for (let i = 0; i < 3; i++) expect((await list(erin)).status).toBe(200);
  await setActiveElsewhere('erin', false);
  const refused = expectError(await list(erin), 401);
  expect(refused.headers['www-authenticate']).toMatch(/^Basic /);
  await setActiveElsewhere('erin', true);
  expect((await list(erin)).status).toBe(200);
});

test('a user deleted through the admin API is refused on the next request', async () => {
  const id = await createUser('frank', 'frank-password-1', ['reader']);
  const frank = basic('frank', 'frank-password-1');
  for (let i = 0; i < 3; i++) expect((await list(frank)).status).toBe(200);
  const deleted = await t.http.delete(`${USERS}/${id}`).set('Authorization', t.auth('admin'));
  expect(deleted.status).toBe(204);
  expectError(await list(frank), 401);
});

test('a user re-created under the same name with another password: only the new password signs in', async () => {
  const id = await createUser('gina', 'gina-password-1', ['user']);
  const old = basic('gina', 'gina-password-1');
  expect((await list(old)).status).toBe(200);
  expect((await t.http.delete(`${USERS}/${id}`).set('Authorization', t.auth('admin'))).status).toBe(204);
  await createUser('gina', 'gina-password-2', ['reader']);
  expectError(await list(old), 401);
  const renewed = basic('gina', 'gina-password-2');
  expect((await list(renewed)).status).toBe(200);
  expectError(
    await t.http
      .post('/rest/common/v1/activities')
      .set('Authorization', renewed)
      .send({ data: { attributes: { subject: 'by gina' } } }),
    403,
  );
});
