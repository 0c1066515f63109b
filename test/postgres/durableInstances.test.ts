// Durable requests with two server instances on one PostgreSQL database: each accepted request runs
// on exactly one of them (FOR UPDATE SKIP LOCKED), and one Idempotency-Key runs once across both.
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createKnex } from '../../src/db/knex';
import { createExtensions } from '../../src/extensions';
import { createLogger } from '../../src/logger';
import type { TestApp } from '../helpers/testApp';
import { lockWaiters, send, useTwoInstances, type Instance } from './helpers';
import { pollComplete } from '../durable/helpers';

const env = useTwoInstances();
let t: TestApp;
let b: Instance;
beforeAll(() => ({ t, b } = env));

/** A second instance with its own asynchronous worker running, on the same database. */
async function workingInstance(): Promise<Instance> {
  const knex = createKnex(t.config.database, t.config.db);
  const extensions = createExtensions({});
  const built = createApp({
    config: t.config,
    knex,
    logger: createLogger(
      'silent',
      new Writable({
        write(_c, _e, cb) {
          cb();
        },
      }),
    ),
    extraOperations: extensions.extraOperations,
  });
  await extensions.start();
  await built.durable.worker.start();
  return {
    http: request(built.app as Express),
    knex,
    close: async () => {
      await built.durable.worker.stop();
      await extensions.stop();
      await knex.destroy();
    },
  };
}

function compositeBody(subject: string) {
  return {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: 'n' } } },
        includeResponse: false,
      },
    ],
  };
}

test('50 asynchronous composites accepted by two instances with workers: each runs exactly once, at most ASYNC_CONCURRENCY per instance at a time', async () => {
  const other = await workingInstance();
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [{ n }] = await t.knex('durable_requests').where({ state: 'inProgress' }).count({ n: '*' });
      most = Math.max(most, Number(n));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    const accepted = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send(
          (i % 2 ? t.http : other.http)
            .post('/rest/composite/v1/composite')
            .set('Authorization', t.auth('user'))
            .set('Prefer', 'respond-async')
            .send(compositeBody(`two-${i}`)),
        ),
      ),
    );
    expect(accepted.every((r) => r.status === 202)).toBe(true);
    for (const r of accepted)
      expect((await pollComplete(t.http, t.auth('user'), r.headers['gw-async-location'])).responseStatus).toBe(200);
  } finally {
    sampling = false;
    await sampler;
    await other.close();
  }
  const rows: Array<{ subject: string; n: number }> = await t
    .knex('activities')
    .where('subject', 'like', 'two-%')
    .groupBy('subject')
    .select('subject', t.knex.raw('count(*)::int as n'));
  expect(rows).toHaveLength(50);
  expect(rows.every((r) => r.n === 1)).toBe(true);
  const attempts = await t
    .knex('durable_requests')
    .where({ kind: 'async' })
    .whereLike('request', '%two-%')
    .select('attempts');
  expect(attempts.map((r: { attempts: number }) => r.attempts)).toEqual(attempts.map(() => 1));
  expect(most).toBeLessThanOrEqual(2 * t.config.durable.asyncConcurrency);
});

test('16 sends of one key spread over two instances: exactly one execution, the rest replayed or 409', async () => {
  const body = { data: { attributes: { subject: 'Two-instance key' } } };
  const results = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      send(
        (i % 2 ? t.http : b.http)
          .post('/rest/common/v1/activities')
          .set('Authorization', t.auth('user'))
          .set('Idempotency-Key', 'two-key')
          .send(body),
      ),
    ),
  );
  const executed = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
  expect(executed).toHaveLength(1);
  expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
  expect(await t.knex('activities').where({ subject: 'Two-instance key' }).count({ n: '*' })).toEqual([{ n: 1 }]);
});

test('the same key while the first call still runs: 409 on the other instance and on its own; afterwards replayed', async () => {
  const created = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'Locked' } } });
  const id = created.body.data.attributes.id;
  await env.locker.query('BEGIN');
  await env.locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [Number(id.split(':')[1])]);
  const patch = (http: Instance['http']) =>
    send(
      http
        .patch(`/rest/common/v1/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .set('Idempotency-Key', 'two-running')
        .send({ data: { attributes: { subject: 'Patched once' } } }),
    );
  const first = patch(t.http);
  await lockWaiters(env.locker, 1);
  const second = await patch(b.http);
  expect(second.status).toBe(409);
  expect(second.body.details[0].properties).toEqual({ idempotencyKey: 'two-running' });
  expect((await patch(t.http)).status).toBe(409);
  await env.locker.query('ROLLBACK');
  expect((await first).status).toBe(200);
  const replay = await patch(b.http);
  expect(replay.status).toBe(200);
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(replay.body.data.attributes.subject).toBe('Patched once');
});
