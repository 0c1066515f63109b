// The TypeScript client's durable options against the running server (a real port, fetch):
// `idempotencyKey` (a retry gets the stored answer), `async` with `waitForResult()`, and their errors.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiRequestError, createClient, type CompositeApiClient } from '../../src/client';
import { PASSWORDS, USERNAMES, startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
let server: Server;
let client: CompositeApiClient;

beforeAll(async () => {
  t = await startTestApp();
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  client = createClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { username: USERNAMES.user, password: PASSWORDS.user },
  });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const create = (subject: string) => ({
  requests: [{ method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject } } } }],
});

test('idempotencyKey: the retry resolves to the same answer and nothing runs twice; another body with the key rejects with 422', async () => {
  const first = await client.composite.run(create('Client keyed'), { idempotencyKey: 'client-1' });
  const again = await client.composite.run(create('Client keyed'), { idempotencyKey: 'client-1' });
  expect(again).toEqual(first);
  expect(Number((await t.knex('activities').where({ subject: 'Client keyed' }).count({ n: '*' }))[0].n)).toBe(1);
  const err = await client.composite.run(create('Other'), { idempotencyKey: 'client-1' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiRequestError);
  expect((err as ApiRequestError).status).toBe(422);
});

test('async: resolves to an AsyncCall with a record; waitForResult() gives what run() gives', async () => {
  const call = await client.composite.run(create('Client async'), { async: true });
  expect(call.done).toBe(false);
  expect(call.location).toMatch(/^\/async\/v1\/requests\//);
  const result = await call.waitForResult({ intervalMs: 50 });
  expect((result.responses[0] as { status: number }).status).toBe(201);
  const record = await client.asyncRequests.get(call.id as string);
  expect(record).toMatchObject({ status: { code: 'complete' }, requestMethod: 'POST', responseStatus: 200 });
  expect(await client.asyncRequests.response(call.id as string)).toEqual(result);
});

test('async with wait: answered at once; a failed composite rejects from waitForResult like run() does; a malformed one at once', async () => {
  const quick = await client.composite.run(create('Client waited'), { async: true, wait: 5 });
  expect(quick.done).toBe(true);
  expect(quick.id).toBeUndefined();
  expect((await quick.waitForResult()).responses).toHaveLength(1);

  const failing = {
    requests: [
      { method: 'patch', uri: '/common/v1/activities/xc:999999', body: { data: { attributes: { subject: 'x' } } } },
    ],
  };
  const later = await client.composite.run(failing, { async: true });
  const err = await later.waitForResult({ intervalMs: 50 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiRequestError);
  expect((err as ApiRequestError).status).toBe(400);
  expect(((err as ApiRequestError).body as { requestFailed: boolean }).requestFailed).toBe(true);

  const malformed = await client.composite
    .run({ requests: [{ method: 'get', uri: '/common/v1/activities' }] }, { async: true })
    .catch((e: unknown) => e);
  expect((malformed as ApiRequestError).status).toBe(400);
});
