// Many composites at once queue and succeed: no SQLITE_BUSY, no pool time-out, no lost write.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { composite } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

test('25 concurrent composites of an activity and 5 notes all commit', async () => {
  const one = (i: number) => ({
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: `Concurrent ${i}` } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      ...Array.from({ length: 5 }, (_, j) => ({
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: `note ${i}.${j}` } } },
        includeResponse: false,
      })),
    ],
    selections: [{ uri: '/common/v1/activities/${a}/notes', parameters: { includeTotal: true } }],
  });
  const results = await Promise.all(Array.from({ length: 25 }, (_, i) => composite(t, one(i))));
  for (const r of results) {
    expect(r.status).toBe(200);
    expect(r.body.selections[0].body.total).toBe(5);
  }
  expect(Number((await t.knex('activities').where('subject', 'like', 'Concurrent %').count({ n: '*' }))[0].n)).toBe(25);
  expect(Number((await t.knex('notes').count({ n: '*' }))[0].n)).toBe(125);
  const ids = results.map((r) => r.body.responses[0].body.data.attributes.id);
  expect(new Set(ids).size).toBe(25);
});
