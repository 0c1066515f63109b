// The client's composite builder (issue 18) over HTTP against the server on a loopback port: typed entries,
// vars through ref(), selections that fail on their own, a typed requestFailed, refusals that reject; and its
// compile-time var check, compiled on its own so the check is seen to fail.
import fs from 'node:fs';
import path from 'node:path';
import { ApiRequestError, createClient, ref, type CompositeApiClient } from '../../src/client';
import { startTestApp, USERNAMES, PASSWORDS, type TestApp } from '../helpers/testApp';
import { ROOT, compile, outputDir } from '../helpers/cli';
import { listen, type Listening } from '../helpers/listen';
import { typedComposite } from './builderTypes';

let t: TestApp;
let server: Listening;
let client: CompositeApiClient;
beforeAll(async () => {
  t = await startTestApp();
  server = await listen(t.app);
  client = createClient({
    baseUrl: server.origin,
    credentials: { username: USERNAMES.user, password: PASSWORDS.user },
  });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

test('a composite built with vars and selections runs, and its entries are what the types say', async () => {
  expect(await typedComposite(client)).toEqual(['Call the insured', 'false', 'Call the insured', 'First call made']);
  const result = await client
    .composite()
    .post('/common/v1/activities', { data: { attributes: { subject: 'Built' } } }, { fields: 'id,subject' })
    .as('a', '$.data.attributes.id')
    .patch(
      `/common/v1/activities/${ref('a')}`,
      { data: { attributes: { description: `made by ${ref('a')}` } } },
      { fields: 'description' },
    )
    .select(`/common/v1/activities/${ref('a')}`, { fields: 'subject,description' })
    .select('/common/v1/notes/xc:999999')
    .run({ transactionId: `builder-${Date.now()}` });
  if (!result.ok) throw new Error(`failed at ${result.requestFailed.index}`);
  const [created, patched] = result.responses;
  const id = created.body.data.attributes.id;
  expect(created.status).toBe(201);
  expect(created.headers.Location).toBe(`/common/v1/activities/${id}`);
  expect(patched.body.data.attributes.description).toBe(`made by ${id}`);
  const [mine, missing] = result.selections;
  expect(mine).toMatchObject({
    ok: true,
    status: 200,
    body: { data: { attributes: { subject: 'Built', description: `made by ${id}` } } },
  });
  expect(missing).toMatchObject({
    ok: false,
    status: 404,
    error: { errorCode: 'gw.api.rest.exception.NotFoundException' },
  });
  expect(result.serverTiming).toMatch(/total;dur=/);
});

test('a failed request resolves to a typed requestFailed; nothing was committed', async () => {
  const before = await t.knex('activities').count({ n: '*' }).first();
  const result = await client
    .composite()
    .post('/common/v1/activities', { data: { attributes: { subject: 'Rolled back' } } })
    .as('a', '$.data.attributes.id')
    .post(`/common/v1/activities/${ref('a')}/complete`)
    .delete('/common/v1/activities/xc:999999')
    .post(`/common/v1/activities/${ref('a')}/notes`, { data: { attributes: { body: 'never' } } })
    .select(`/common/v1/activities/${ref('a')}`)
    .run();
  if (result.ok) throw new Error('expected the composite to fail');
  expect(result.requestFailed.index).toBe(2);
  expect(result.requestFailed.error).toMatchObject({
    status: 404,
    errorCode: 'gw.api.rest.exception.NotFoundException',
  });
  expect(result.requestFailed.responses.map((e) => Object.keys(e).sort().join(','))).toEqual([
    'body,headers,status',
    'body,headers,status',
    'requestError',
    'skipped',
  ]);
  expect(await t.knex('activities').count({ n: '*' }).first()).toEqual(before);
});

test('a composite refused before it runs, or by authentication, rejects with ApiRequestError', async () => {
  const refused = client
    .composite()
    .post('/common/v1/search/activities', { data: { attributes: {} } })
    .run();
  await expect(refused).rejects.toBeInstanceOf(ApiRequestError);
  await expect(refused).rejects.toMatchObject({ status: 400, errorCode: 'gw.api.rest.exception.BadInputException' });
  const stranger = createClient({
    baseUrl: server.origin,
    credentials: { username: 'nobody', password: 'wrong-password' },
  });
  await expect(stranger.composite().select('/common/v1/activities').run()).rejects.toMatchObject({ status: 401 });
  expect(() => client.composite().as('x', '$.id')).toThrow(/needs a request before it/);
  expect(() => ref('not a name')).toThrow(/not a var name/);
});

test('the var check is a compile error: builderTypes.ts compiles, and fails without its expect-error directives', async () => {
  const dir = outputDir('builder-types');
  try {
    const source = fs
      .readFileSync(path.join(ROOT, 'test/client/builderTypes.ts'), 'utf8')
      .replace(/'\.\.\/\.\.\/src\/client'/g, `'${path.join(ROOT, 'src/client')}'`);
    fs.writeFileSync(path.join(dir, 'ok.ts'), source);
    fs.writeFileSync(path.join(dir, 'bad.ts'), source.replace(/^\s*\/\/ @ts-expect-error.*$/gm, ''));
    const ok = await compile(dir, ['ok.ts'], false);
    expect(ok.stdout).toBe('');
    const bad = await compile(dir, ['bad.ts'], false);
    expect(bad.code).not.toBe(0);
    // one error where each directive stood, and no other
    const errorLines = bad.stdout.split('\n').filter((line) => / error TS\d+/.test(line));
    expect(errorLines).toHaveLength(source.match(/\/\/ @ts-expect-error/g)!.length);
    for (const name of ['noteId', 'other', 'later', 'activityID'])
      expect(bad.stdout).toContain(`undeclaredVar: "${name}"`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
