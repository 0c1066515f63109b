// The TypeScript client's batch.run against the running server (a real port, fetch): entries in order,
// includeResponseHeaders, the admin API, dry run, unknown-element handling, and a refused batch.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiRequestError, createClient, type CompositeApiClient } from '../../src/client';
import { PASSWORDS, USERNAMES, startTestApp, type TestApp } from '../helpers/testApp';
import { fullSnapshot } from './helpers';

let t: TestApp;
let server: Server;
let client: CompositeApiClient;
let admin: CompositeApiClient;

beforeAll(async () => {
  t = await startTestApp({ BATCH_MAX_SUBREQUESTS: '3' });
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createClient({ baseUrl, credentials: { username: USERNAMES.user, password: PASSWORDS.user } });
  admin = createClient({ baseUrl, credentials: { username: USERNAMES.admin, password: PASSWORDS.admin } });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const create = (subject: string) => ({
  method: 'post',
  path: '/activities',
  body: { data: { attributes: { subject } } },
});

test('batch.run: the entries in order, with only the response headers asked for', async () => {
  const res = await client.batch.run(
    { requests: [create('from the client'), { method: 'delete', path: '/activities/xc:999999' }] },
    { includeResponseHeaders: ['Location'] },
  );
  expect(res.responses.map((r) => ('status' in r ? r.status : 'skipped'))).toEqual([201, 404]);
  const first = res.responses[0] as { headers: Array<{ name: string; value: string }> };
  expect(first.headers.map((h) => h.name)).toEqual(['Location']);
  const none = await client.batch.run({ requests: [create('no headers')] }, { includeResponseHeaders: 'none' });
  expect((none.responses[0] as { headers: unknown[] }).headers).toEqual([]);
});

test('batch.run on the admin API, a dry run, and unknown-element handling', async () => {
  const users = await admin.batch.run(
    { requests: [{ method: 'get', path: '/users', query: 'fields=username' }] },
    { api: 'admin' },
  );
  expect((users.responses[0] as { status: number }).status).toBe(200);
  const before = await fullSnapshot(t);
  const dry = await client.batch.run(
    {
      requests: [
        { method: 'post', path: '/activities', body: { data: { attributes: { subject: 'dry', colour: 'red' } } } },
      ],
    },
    { dryRun: true, unknownProperties: 'ignore' },
  );
  expect((dry.responses[0] as { status: number }).status).toBe(201);
  expect(await fullSnapshot(t)).toBe(before);
});

test('a refused batch rejects with ApiRequestError (over BATCH_MAX_SUBREQUESTS)', async () => {
  const refused = client.batch.run({ requests: [create('1'), create('2'), create('3'), create('4')] });
  await expect(refused).rejects.toBeInstanceOf(ApiRequestError);
  await expect(refused).rejects.toMatchObject({ status: 400 });
});
