// src/cli/copyData.ts moves a live SQLite database to PostgreSQL (and back): every row, the password
// hashes, the GW-DBTransaction-ID ledger and the id sequences, so the copy serves the same API.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Knex } from 'knex';
import { loadConfig } from '../../src/config';
import { copyData } from '../../src/schema/copy';
import { STORED_DATA } from '../../src/storedData';
import { connectDatabase } from '../../src/db/connect';
import { freshPostgresDatabase, freshSqliteDatabase, type FreshDatabase } from '../helpers/database';
import { startTestApp, tempSqliteUrl, type TestApp } from '../helpers/testApp';
import { instanceOn, type Instance } from './helpers';

let src: TestApp;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  src = await startTestApp({ DATABASE_URL: tempSqliteUrl() });
  const user = src.auth('user');
  const a = await src.http
    .post('/rest/common/v1/activities')
    .set('Authorization', user)
    .send({
      data: {
        attributes: {
          subject: 'Moved across',
          priority: { code: 'high' },
          dueDate: '2030-01-31',
          assignedUser: { id: src.ids.user },
        },
      },
    });
  await src.http
    .post(`/rest/common/v1/activities/${a.body.data.attributes.id}/notes`)
    .set('Authorization', user)
    .send({ data: { attributes: { body: 'secret note', confidential: true } } });
  await src.http
    .patch(`/rest/common/v1/activities/${a.body.data.attributes.id}`)
    .set('Authorization', user)
    .send({ data: { attributes: { description: 'changed once' }, checksum: '0' } });
  const ok = await src.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', user)
    .set('GW-DBTransaction-ID', 'copied-tx')
    .send({
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'From a composite' } } },
        },
      ],
    });
  expect(ok.status).toBe(200);
  // A rolled-back composite still consumed its ids: the copy must not hand them out again.
  const failed = await src.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', user)
    .send({
      requests: [
        { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Rolled back' } } } },
        {
          method: 'patch',
          uri: `/common/v1/activities/${a.body.data.attributes.id}`,
          body: { data: { attributes: { subject: 'x' }, checksum: '0' } },
        },
      ],
    });
  expect(failed.status).toBe(400);
});
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await src.close();
});

async function open(db: FreshDatabase): Promise<Knex> {
  const knex = await connectDatabase(loadConfig({ DATABASE_URL: db.url }));
  cleanup.push(() => knex.destroy());
  return knex;
}

function serve(db: FreshDatabase): Instance {
  const instance = instanceOn(loadConfig({ DATABASE_URL: db.url }));
  cleanup.push(() => instance.close());
  return instance;
}

/** Every item of every collection as the API shows it (as the admin, who sees everything). */
async function snapshot(http: Instance['http'] | TestApp['http'], auth: string): Promise<unknown> {
  const out: Record<string, unknown> = {};
  const get = async (uri: string) => {
    const res = await http.get(`${uri}?fields=*all&pageSize=100`).set('Authorization', auth);
    expect(res.status).toBe(200);
    return (out[uri] = res.body.data);
  };
  await get('/rest/admin/v1/users');
  for (const activity of await get('/rest/common/v1/activities')) await get(`/rest${activity.links.notes.href}`);
  return out;
}

test('SQLite → PostgreSQL → SQLite: the same API, passwords, ledger and sequences on every copy', async () => {
  const pg = await freshPostgresDatabase();
  cleanup.push(() => pg.drop());
  const back = freshSqliteDatabase();
  cleanup.push(() => back.drop());
  const before = await snapshot(src.http, src.auth('admin'));
  const nextBefore = await src.knex('id_sequences').where({ name: 'activities' }).first();

  const report = await copyData(src.knex, await open(pg), STORED_DATA);
  expect(report).toMatchObject({
    users: 3,
    activities: 2,
    notes: 1,
    composite_transactions: 1,
    connector_registry: 1,
    'activities next id': Number(nextBefore.next_id),
  });
  const onPg = serve(pg);
  // The same bodies, read through the app on PostgreSQL with the copied users' own passwords.
  expect(await snapshot(onPg.http, src.auth('admin'))).toEqual(before);
  const again = await onPg.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', src.auth('user'))
    .set('GW-DBTransaction-ID', 'copied-tx')
    .send({
      requests: [
        { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'twice?' } } } },
      ],
    });
  expect(again.body.errorCode).toBe('gw.api.webservice.exception.AlreadyExecutedException');
  const fresh = await onPg.http
    .post('/rest/common/v1/activities')
    .set('Authorization', src.auth('user'))
    .send({ data: { attributes: { subject: 'New on PostgreSQL' } } });
  expect(fresh.status).toBe(201);
  expect(fresh.body.data.attributes.id).toBe(`xc:${nextBefore.next_id}`);

  const reportBack = await copyData(onPg.knex, await open(back), STORED_DATA);
  expect(reportBack).toMatchObject({ users: 3, activities: 3, notes: 1 });
  const onSqlite = serve(back);
  expect(await snapshot(onSqlite.http, src.auth('admin'))).toEqual(await snapshot(onPg.http, src.auth('admin')));
  // PostgreSQL's true is SQLite's 1 again, so filters on booleans still match.
  expect(await onSqlite.knex('notes').select('confidential')).toEqual([{ confidential: 1 }]);
  expect(await onPg.knex('notes').select('confidential')).toEqual([{ confidential: true }]);
});

test('refuses a target that already holds data, and changes nothing there', async () => {
  const pg = await freshPostgresDatabase();
  cleanup.push(() => pg.drop());
  const target = await open(pg);
  await copyData(src.knex, target, STORED_DATA);
  const users = await target('users').orderBy('id');
  await expect(copyData(src.knex, target, STORED_DATA)).rejects.toThrow(
    'the target database already holds users; copy only into a fresh database',
  );
  expect(await target('users').orderBy('id')).toEqual(users);
});

test('refuses a source that is not migrated', async () => {
  const empty = freshSqliteDatabase();
  cleanup.push(() => empty.drop());
  const pg = await freshPostgresDatabase();
  cleanup.push(() => pg.drop());
  await expect(copyData(await open(empty), await open(pg), STORED_DATA)).rejects.toThrow(
    /the source database is at migrations \[\], this server expects \[001_resources/,
  );
});

test('the command line: usage, a clear failure without credentials, and a complete copy', async () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['-e', TS_HOOK, path.resolve(__dirname, '../../src/cli/copyData.ts'), ...args], {
      env: { PATH: process.env.PATH, NODE_PATH: path.resolve(__dirname, '../../node_modules') },
      encoding: 'utf8',
      timeout: 60000,
    });
  const usage = run([]);
  expect(usage.status).toBe(2);
  expect(usage.stderr).toContain('usage: copy-data --from <DATABASE_URL> --to <DATABASE_URL>');
  const from = src.config.database.kind === 'sqlite' ? `sqlite:${src.config.database.filename}` : '';
  const unreachable = run(['--from', from, '--to', 'postgres://ops:hunter22@127.0.0.1:1/x']);
  expect(unreachable.status).toBe(1);
  expect(unreachable.stderr).toContain('copy failed: cannot reach the database at postgres://127.0.0.1:1/x');
  expect(unreachable.stderr).not.toContain('hunter22');
  const pg = await freshPostgresDatabase();
  cleanup.push(() => pg.drop());
  const copied = run(['--from', from, '--to', pg.url]);
  expect({ status: copied.status, stderr: copied.stderr }).toEqual({ status: 0, stderr: '' });
  expect(copied.stdout).toContain('users: 3\nactivities: 2\nnotes: 1\ncomposite_transactions: 1\n');
  expect(copied.stdout).toMatch(/copy complete\n$/);
  expect(await (await open(pg))('activities').count({ n: '*' })).toEqual([{ n: 2 }]);
}, 120_000); // three processes, each compiling the TypeScript sources it loads: over 30 s at load 12

/** Runs a TypeScript entry point in a child Node process, transpiling .ts files as they load. */
const TS_HOOK = `
  const ts = require('typescript'); const fs = require('fs');
  require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'),
    { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file }).outputText, file);
  require(process.argv[1]);`;
