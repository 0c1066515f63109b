// GW-DBTransaction-ID: recorded with the composite's writes; a repeat runs nothing.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { composite, snapshot } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const body = {
  requests: [
    { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Once only' } } } },
  ],
};

test('a committed transaction id is refused the second time and nothing runs', async () => {
  const first = await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'txn-0001' });
  expect(first.status).toBe(200);
  const before = await snapshot(t);
  const again = await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'txn-0001' });
  expect(again.status).toBe(400);
  expect(again.body.errorCode).toBe('gw.api.webservice.exception.AlreadyExecutedException');
  expect(await snapshot(t)).toBe(before);
  expect(Number((await t.knex('activities').where({ subject: 'Once only' }).count({ n: '*' }))[0].n)).toBe(1);
});

test('a failed composite does not record its transaction id, so it can be sent again', async () => {
  const failing = {
    requests: [
      body.requests[0],
      { method: 'post', uri: '/common/v1/activities/xc:999999/notes', body: { data: { attributes: { body: 'x' } } } },
    ],
  };
  const failed = await composite(t, failing, 'user', { 'GW-DBTransaction-ID': 'txn-retry' });
  expect(failed.status).toBe(400);
  expect(failed.body.requestFailed).toBe(true);
  expect(await t.knex('composite_transactions').where({ id: 'txn-retry' }).first()).toBeUndefined();
  const retried = await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'txn-retry' });
  expect(retried.status).toBe(200);
});

test('the same id sent many times at once runs exactly once', async () => {
  const results = await Promise.all(
    Array.from({ length: 8 }, () =>
      composite(
        t,
        {
          requests: [
            { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Raced' } } } },
          ],
        },
        'user',
        { 'GW-DBTransaction-ID': 'txn-race' },
      ),
    ),
  );
  expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  expect(
    results.filter((r) => r.body.errorCode === 'gw.api.webservice.exception.AlreadyExecutedException'),
  ).toHaveLength(7);
  expect(Number((await t.knex('activities').where({ subject: 'Raced' }).count({ n: '*' }))[0].n)).toBe(1);
});

test('a transaction id over 128 characters is refused', async () => {
  const before = await snapshot(t);
  const res = await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'x'.repeat(129) });
  expect(res.status).toBe(400);
  expect(res.body.userMessage).toMatch(/1 to 128 characters/);
  expect(await snapshot(t)).toBe(before);
  expect((await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'y'.repeat(128) })).status).toBe(200);
});
