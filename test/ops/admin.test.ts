// `npm run admin` (src/cli/admin.ts) as a real process against the test database (SQLite, or
// PostgreSQL with TEST_DATABASE_URL): a reset password signs in and the old one no longer does; a
// created admin can administer; mistakes are refused in one line and change nothing.
import { basic, PASSWORDS, startTestApp, USERNAMES, type TestApp } from '../helpers/testApp';
import { builtDist, runAdmin, spawnProc } from '../helpers/distServer';

let t: TestApp;
let env: Record<string, string>;
beforeAll(async () => {
  builtDist();
  t = await startTestApp();
  const db = t.config.database;
  env = { DATABASE_URL: db.kind === 'sqlite' ? `sqlite:${db.filename}` : db.url };
}, 120000);
afterAll(async () => t.close());

async function status(username: string, password: string): Promise<number> {
  return (await t.http.get('/rest/admin/v1/users').set('Authorization', basic(username, password))).status;
}

test('reset-password with the password piped in: the new one signs in, the old one no longer does', async () => {
  expect(await status(USERNAMES.admin, PASSWORDS.admin)).toBe(200);
  const before = await t.knex('users').where({ username: USERNAMES.admin }).first();
  const result = await runAdmin(['reset-password', USERNAMES.admin], env, 'piped-new-admin-pw\n');
  expect(result).toEqual({ code: 0, output: `the password of "${USERNAMES.admin}" was reset\n` });
  expect(await status(USERNAMES.admin, 'piped-new-admin-pw')).toBe(200);
  expect(await status(USERNAMES.admin, PASSWORDS.admin)).toBe(401);
  const after = await t.knex('users').where({ username: USERNAMES.admin }).first();
  expect(Number(after.checksum)).toBe(Number(before.checksum) + 1);
});

test('reset-password with nothing piped in: a generated password is printed once and signs in', async () => {
  const result = await runAdmin(['reset-password', USERNAMES.user], env);
  expect(result.code).toBe(0);
  const generated = /generated password: (\S+)\n/.exec(result.output)?.[1] as string;
  expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
  expect(
    (await t.http.get('/rest/common/v1/activities').set('Authorization', basic(USERNAMES.user, generated))).status,
  ).toBe(200);
  expect(
    (await t.http.get('/rest/common/v1/activities').set('Authorization', basic(USERNAMES.user, PASSWORDS.user))).status,
  ).toBe(401);
});

test('`npm run admin -- create <username> --role admin` (the npm script, password from --stdin): the new admin can administer', async () => {
  const proc = spawnProc(
    'npm',
    ['run', '--silent', 'admin', '--', 'create', 'rescuer', '--role', 'admin', '--stdin'],
    env,
    'rescuer-password-1',
  );
  expect((await proc.exited).code).toBe(0);
  expect(proc.output()).toBe('created user "rescuer" with roles admin\n');
  expect(await status('rescuer', 'rescuer-password-1')).toBe(200);
  const again = await runAdmin(['create', 'rescuer', '--role', 'admin'], env, 'another-password-1');
  expect(again).toEqual({ code: 1, output: 'admin: a user named "rescuer" already exists\n' });
  expect(await status('rescuer', 'rescuer-password-1')).toBe(200);
});

test('mistakes are refused in one line and change nothing', async () => {
  expect(await runAdmin(['reset-password', 'nobody'], env, 'some-password-1')).toEqual({
    code: 1,
    output: 'admin: there is no user named "nobody"\n',
  });
  expect(await runAdmin(['reset-password', USERNAMES.reader], env, 'short')).toEqual({
    code: 2,
    output: 'admin: the password on stdin must be 8-256 characters\n',
  });
  expect(await status(USERNAMES.reader, PASSWORDS.reader)).toBe(403); // the reader's password still works (403: not an admin)
  const unknown = await runAdmin(['delete-everything'], env);
  expect(unknown.code).toBe(2);
  expect(unknown.output).toMatch(/^admin: unknown command "delete-everything"\nusage:/);
  const badRole = await runAdmin(['create', 'x', '--role', 'root'], env, 'some-password-1');
  expect(badRole.code).toBe(2);
  expect(await t.knex('users').where({ username: 'x' }).first()).toBeUndefined();
});
