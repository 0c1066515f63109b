// A 5xx is never kept for a retry (SPEC §8): a synchronous call's record is forgotten and its retry
// runs again; an asynchronous call keeps the 500 for its poller but frees its key.
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/app';
import { WRITERS, type Operation } from '../../src/api/operation';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { pollComplete } from './helpers';

let t: TestApp;
let http: ReturnType<typeof request>;
let stopWorker: () => Promise<void>;
let failNext = 0;
let runs = 0;
const logs: string[] = [];

/** Fails unexpectedly (a 500) while `failNext` counts down, then answers 201 with the run number. */
const flaky: Operation = {
  operationId: 'flakyForTest',
  api: 'common',
  method: 'post',
  path: '/flaky',
  summary: 'fails, then works',
  tag: 'Test',
  roles: WRITERS,
  allowForComposite: false,
  queryParams: [],
  transactional: true,
  responses: [],
  async handler() {
    runs++;
    if (failNext > 0) {
      failNext--;
      throw new Error('unexpected failure with secret-detail');
    }
    return { status: 201, body: { run: runs } };
  },
};

beforeAll(async () => {
  t = await startTestApp();
  // Only the app that has the flaky operation runs asynchronous requests here.
  await t.durable.worker.stop();
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const built = createApp({
    config: t.config,
    knex: t.knex,
    logger: createLogger('info', sink),
    extraOperations: () => [flaky],
  });
  await built.durable.worker.start();
  http = request(built.app as Express);
  stopWorker = () => built.durable.worker.stop();
});
afterAll(async () => {
  await stopWorker();
  await t.close();
});

test('a synchronous 500 is not stored: the retry with the key runs again, and its answer is kept', async () => {
  failNext = 1;
  const send = () =>
    http.post('/rest/common/v1/flaky').set('Authorization', t.auth('user')).set('Idempotency-Key', 'flaky-1').send({});
  const failed = await send();
  expect(failed.status).toBe(500);
  expect(await t.knex('durable_requests').where({ idem_key: 'flaky-1' }).first()).toBeUndefined();
  const retried = await send();
  expect(retried.status).toBe(201);
  expect(retried.headers['idempotent-replayed']).toBeUndefined();
  const replayed = await send();
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  expect(replayed.body).toEqual(retried.body);
});

test('an asynchronous 500 is kept for its poller (with the request id, nothing more) and frees its key', async () => {
  failNext = 1;
  const send = () =>
    http
      .post('/rest/common/v1/flaky')
      .set('Authorization', t.auth('user'))
      .set('Idempotency-Key', 'flaky-async')
      .set('Prefer', 'respond-async')
      .send({});
  const accepted = await send();
  expect(accepted.status).toBe(202);
  const location = accepted.headers['gw-async-location'];
  expect((await pollComplete(http, t.auth('user'), location)).responseStatus).toBe(500);
  const answer = await http.get(`/rest${location}/response`).set('Authorization', t.auth('user'));
  expect(answer.status).toBe(500);
  expect(answer.body.errorCode).toBe('gw.api.rest.exception.InternalServerErrorException');
  expect(JSON.stringify(answer.body)).not.toContain('secret-detail');
  expect(logs.join('')).not.toContain('secret-detail');
  const again = await send();
  expect(again.status).toBe(202);
  expect(again.headers['gw-async-location']).not.toBe(location);
  expect((await pollComplete(http, t.auth('user'), again.headers['gw-async-location'])).responseStatus).toBe(201);
});
