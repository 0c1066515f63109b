// On PostgreSQL a composite's ids come from ids its server drew ahead, and its queued inserts go with
// its COMMIT in one round trip, their values written as literals by pg's own quoting. What must hold:
// every value is stored exactly as a parameterised statement stores it; an id is never handed out twice,
// by one instance or two; ids a server drew are never reused.
import { DRAW_AHEAD } from '../../src/db/sequences';
import { useTwoInstances, type Instance } from './helpers';
import type { TestApp } from '../helpers/testApp';

const env = useTwoInstances();
let t: TestApp;
let b: Instance;
beforeAll(() => ({ t, b } = env));

const COMPOSITE = '/rest/composite/v1/composite';

/** Text that a hand-rolled quoting would get wrong. */
const AWKWARD = [
  "it's",
  "'; DROP TABLE notes; --",
  "back\\slash \\x41 \\\\ and E'\\'",
  '$1 ? ?? $$ dollar $$ :name',
  'line\nbreak\ttab\r\n',
  'émoji 🎉 and 日本語',
  '{"json": [1, "two"]}',
  ' ',
];

const activity = { subject: AWKWARD[1], description: AWKWARD[2], priority: { code: 'urgent' }, dueDate: '2031-02-28' };

const numericId = (r: { body: { data: { attributes: { id: string } } } }) =>
  Number(r.body.data.attributes.id.split(':')[1]);

/** An activity with `activity`'s attributes and a note under it for each of `notes`. */
function composite(http: TestApp['http'] | Instance['http'], notes: string[]) {
  const create = { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: activity } } };
  const vars = [{ name: 'a', path: '$.data.attributes.id' }];
  const noteUri = '/common/v1/activities/${a}/notes';
  const requests = [
    { ...create, vars },
    ...notes.map((body) => ({ method: 'post', uri: noteUri, body: { data: { attributes: { body } } } })),
  ];
  return http.post(COMPOSITE).set('Authorization', t.auth('user')).send({ requests });
}

async function lastValue(sequence: string): Promise<number> {
  const { rows } = await t.knex.raw(`SELECT last_value FROM ${sequence}`);
  return Number(rows[0].last_value);
}

test('values written as literals are stored exactly as a parameterised insert stores them', async () => {
  const res = await composite(t.http, AWKWARD);
  expect(res.status).toBe(200);
  const activityId = numericId(res.body.responses[0]);
  const direct = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: activity } });
  expect(direct.status).toBe(201);
  const row = async (id: number) => {
    const { id: _id, create_time: _c, update_time: _u, ...rest } = await t.knex('activities').where({ id }).first();
    return rest;
  };
  expect(await row(activityId)).toEqual(await row(numericId(direct)));
  expect(await row(activityId)).toMatchObject({ subject: AWKWARD[1], description: AWKWARD[2], priority: 'urgent' });
  const notes = await t.knex('notes').where({ activity_id: activityId }).orderBy('id').pluck('body');
  expect(notes).toEqual(AWKWARD);
  expect(
    res.body.responses
      .slice(1)
      .map((r: { body: { data: { attributes: { body: string } } } }) => r.body.data.attributes.body),
  ).toEqual(AWKWARD);
});

test('a composite takes ids drawn ahead: the sequence moves only when they run out, ids ascend, none twice', async () => {
  const first = await composite(t.http, ['a', 'b', 'c']);
  expect(first.status).toBe(200);
  const drawnTo = await lastValue('notes_seq');
  const firstIds = first.body.responses.slice(1).map(numericId);
  expect(drawnTo).toBeGreaterThanOrEqual(Math.max(...firstIds));
  const second = await composite(t.http, ['d', 'e', 'f']);
  expect(second.status).toBe(200);
  const secondIds = second.body.responses.slice(1).map(numericId);
  // Three more notes fit in what was drawn: no nextval ran.
  expect(await lastValue('notes_seq')).toBe(drawnTo);
  expect([...firstIds, ...secondIds]).toEqual([...firstIds, ...secondIds].sort((x, y) => x - y));
  // More than is left: drawn again, beyond the need.
  const many = await composite(
    t.http,
    Array.from({ length: DRAW_AHEAD + 5 }, (_, i) => `n${i}`),
  );
  expect(many.status).toBe(200);
  const manyIds = many.body.responses.slice(1).map(numericId);
  expect(new Set([...firstIds, ...secondIds, ...manyIds]).size).toBe(
    firstIds.length + secondIds.length + manyIds.length,
  );
  expect(await lastValue('notes_seq')).toBeGreaterThanOrEqual(Math.max(...manyIds) + DRAW_AHEAD);
});

test('two instances on one database hand out their own drawn ids: all composites commit, no id twice', async () => {
  const calls = Array.from({ length: 6 }, (_, i) => composite(i % 2 ? b.http : t.http, ['x', 'y', 'z', `${i}`]));
  const results = await Promise.all(calls.map((c) => Promise.resolve(c)));
  results.forEach((r) => expect(r.status).toBe(200));
  const noteIds = results.flatMap((r) => r.body.responses.slice(1).map(numericId));
  const activityIds = results.map((r) => numericId(r.body.responses[0]));
  expect(new Set(noteIds).size).toBe(noteIds.length);
  expect(new Set(activityIds).size).toBe(activityIds.length);
  const stored = await t.knex('notes').whereIn('activity_id', activityIds).count<{ n: string }[]>({ n: '*' }).first();
  expect(Number(stored?.n)).toBe(noteIds.length);
});
