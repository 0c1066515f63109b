// The registry sync: all or nothing (every kind of invalid file is refused whole, the previous
// definitions stay in force and GET …/connectors/sync says when and why), live file changes picked
// up by the watcher, and definitions shared through the database by every instance.
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createExtensions } from '../../src/extensions';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from './upstream';

let t: TestApp;
let api: Upstream;
let file: string;

const composite = (permalink: string, steps: unknown[] = [{ name: 'only', url: 'https://api.example.com/x' }]) => ({
  name: permalink,
  permalink,
  steps,
});
const valid = (...permalinks: string[]) => ({ composite_connectors: permalinks.map((p) => composite(p)) });

beforeAll(async () => {
  api = await startUpstream((_req, res) => json(res, 200, { ok: true }));
  file = path.join(tempDir(), 'connectors_registry.json');
  writeJson(file, valid('first'));
  t = await startTestApp({ CONNECTORS_REGISTRY: file, CONNECTORS_ALLOWED_HOSTS: api.host });
});

afterAll(async () => {
  await t.close();
  await api.close();
});

const admin = () => t.auth('admin');
const listed = async () =>
  (await t.http.get('/rest/connectors/v1/composite').set('Authorization', t.auth('user'))).body.data.map(
    (c: { permalink: string }) => c.permalink,
  );
const status = async () => (await t.http.get('/rest/admin/v1/connectors/sync').set('Authorization', admin())).body;

test('the file is synced at start', async () => {
  expect(await listed()).toEqual(['first']);
  const s = await status();
  expect(s.registry).toEqual({ configured: true, file });
  expect(s.active).toMatchObject({ revision: 1, syncedFrom: 'start', connectors: 0, compositeConnectors: 1 });
  expect(s.lastAttempt).toMatchObject({ ok: true, trigger: 'start', problems: [] });
});

test('only admins see or trigger the sync', async () => {
  expect((await t.http.get('/rest/admin/v1/connectors/sync').set('Authorization', t.auth('user'))).status).toBe(403);
  expect((await t.http.post('/rest/admin/v1/connectors/sync').set('Authorization', t.auth('user'))).status).toBe(403);
});

const step = (extra: Record<string, unknown>) => ({ name: 'only', url: 'https://api.example.com/x', ...extra });

test.each([
  ['bad JSON', '{"composite_connectors": [', /not valid JSON|Unexpected|Expected/],
  ['not an object', '[]', /must be object/],
  ['an unknown member', { composite_connectors: [{ ...composite('x'), extra: 1 }] }, /unknown member "extra"/],
  ['a missing url', { composite_connectors: [composite('x', [{ name: 'only' }])] }, /missing member "url"/],
  ['a bad permalink slug', valid('Not A Slug'), /slug/],
  ['a bad step name', { composite_connectors: [composite('x', [step({ name: 'Fetch_User' })])] }, /slug/],
  [
    'a duplicate permalink',
    {
      connectors: [{ name: 'a', permalink: 'dup', url: 'https://a.example.com' }],
      composite_connectors: [composite('dup')],
    },
    /duplicate permalink "dup"/,
  ],
  [
    'a duplicate step name',
    { composite_connectors: [composite('x', [step({}), step({})])] },
    /duplicate step name "only"/,
  ],
  [
    'a template that does not compile',
    { composite_connectors: [composite('x', [step({ url: 'https://a.example.com/{{ steps.auth.body ' })])] },
    /template does not compile/,
  ],
  [
    'get_secret in a URL',
    { composite_connectors: [composite('x', [step({ url: "https://a.example.com/{{ get_secret('k') }}" })])] },
    /get_secret\(\) may only be used/,
  ],
  [
    'an include tag',
    { composite_connectors: [composite('x', [step({ request_body: "{% include 'x' %}" })])] },
    /include %\} tag is not allowed/,
  ],
  [
    'an unknown auth type',
    { composite_connectors: [composite('x', [step({ authentication: { type: 'jwt' } })])] },
    /authentication\.type: must be one of none, api_key, oauth_client_credentials/,
  ],
  [
    'oauth without a token_url',
    {
      composite_connectors: [
        composite('x', [
          step({
            authentication: { type: 'oauth_client_credentials', config: { client_id: 'a', client_secret: 'b' } },
          }),
        ]),
      ],
    },
    /missing member "token_url"/,
  ],
])('refused whole: %s', async (_label, content, reason) => {
  const before = await status();
  writeJson(file, content);
  const res = await t.http.post('/rest/admin/v1/connectors/sync').set('Authorization', admin());
  expect(res.status).toBe(400);
  expect(res.body.userMessage).toMatch(/refused; the previous definitions stay in force/);
  expect(res.body.details.map((d: { message: string }) => d.message).join('\n')).toMatch(reason);
  const after = await status();
  expect(after.active.revision).toBe(before.active.revision);
  expect(after.lastAttempt).toMatchObject({ ok: false, trigger: 'api' });
  expect(
    after.lastAttempt.problems.map((p: { path: string; message: string }) => `${p.path}: ${p.message}`).join('\n'),
  ).toMatch(reason);
  expect(await listed()).toEqual(['first']);
  const log = t.logs.filter((l) => l.includes('connector registry refused')).pop();
  expect(log).toBeDefined();
});

test('a valid sync replaces the whole set; an unchanged file keeps the revision', async () => {
  writeJson(file, valid('second', 'third'));
  const res = await t.http.post('/rest/admin/v1/connectors/sync').set('Authorization', admin());
  expect(res.status).toBe(200);
  expect(await listed()).toEqual(['second', 'third']);
  const revision = (await status()).active.revision;
  expect((await t.http.post('/rest/admin/v1/connectors/sync').set('Authorization', admin())).body.active.revision).toBe(
    revision,
  );
});

test('a live file change is picked up by the watcher', async () => {
  const revision = (await status()).active.revision;
  writeJson(file, { composite_connectors: [composite('live', [{ name: 'only', url: `${api.url}/live` }])] });
  let s = await status();
  for (let i = 0; i < 200 && s.active.revision === revision; i++) {
    await new Promise((r) => setTimeout(r, 25));
    s = await status();
  }
  expect(s.active.revision).toBe(revision + 1);
  expect(s.active.syncedFrom).toBe('watch');
  expect(await listed()).toEqual(['live']);
  const res = await t.http.post('/rest/connectors/v1/composite/live/execute').set('Authorization', t.auth('user'));
  expect(res.status).toBe(200);
});

test('a second instance on the same database serves the same definitions', async () => {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const extensions = createExtensions({});
  const other = createApp({
    config: { ...t.config, connectorsRegistry: undefined },
    knex: t.knex,
    logger: createLogger('info', sink),
    extraOperations: extensions.extraOperations,
  });
  await extensions.start();
  try {
    const res = await request(other.app).get('/rest/connectors/v1/composite').set('Authorization', t.auth('user'));
    expect(res.body.data.map((c: { permalink: string }) => c.permalink)).toEqual(await listed());
    writeJson(file, valid('from-first-instance'));
    expect((await t.http.post('/rest/admin/v1/connectors/sync').set('Authorization', admin())).status).toBe(200);
    const again = await request(other.app).get('/rest/connectors/v1/composite').set('Authorization', t.auth('user'));
    expect(again.body.data.map((c: { permalink: string }) => c.permalink)).toEqual(['from-first-instance']);
    const otherSync = await request(other.app).post('/rest/admin/v1/connectors/sync').set('Authorization', admin());
    expect(otherSync.status).toBe(409);
  } finally {
    await extensions.stop();
  }
});
