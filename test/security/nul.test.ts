// U+0000 is refused at the edge on both databases: in bodies (values and member names, any depth),
// query values, path segments, search filters, composites and Basic credentials — a 400 naming the
// field, nothing changed, nothing logged as an error. PostgreSQL's data exceptions (class 22) are 400.
import { startTestApp, basic, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity, snapshot } from '../composite/helpers';
import { testDatabaseKind } from '../helpers/database';
import { mapDbError } from '../../src/db/errors';
import { ApiError } from '../../src/errors';

const ACTIVITIES = '/rest/common/v1/activities';
const NUL = '\u0000';

let t: TestApp;
let activityId: string;
beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
  activityId = await createActivity(t);
});
afterAll(async () => t.close());

/** Log lines at pino's error level (50) or above. */
function errorLines(): string[] {
  return t.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
}

/** The answer is a 400 error body naming `field`; the database is unchanged and no error was logged. */
async function refused(send: () => PromiseLike<import('supertest').Response>, field: string) {
  const before = await snapshot(t);
  const logged = errorLines().length;
  const res = expectError(await send(), 400);
  expect(res.body.userMessage).toBe(`${field} holds a NUL character (U+0000), which is not allowed in any text`);
  expect(res.body.details[0].properties).toEqual({ field });
  expect(await snapshot(t)).toBe(before);
  expect(errorLines().length).toBe(logged);
  return res;
}

const asUser = (req: import('supertest').Test) => req.set('Authorization', t.auth('user'));

describe('in bodies', () => {
  it('refuses it in a value at any depth, in a create and an update', async () => {
    await refused(
      () => asUser(t.http.post(ACTIVITIES)).send({ data: { attributes: { subject: `a${NUL}b` } } }),
      'body/data/attributes/subject',
    );
    await refused(
      () =>
        asUser(t.http.patch(`${ACTIVITIES}/${activityId}`)).send({ data: { attributes: { description: `x${NUL}` } } }),
      'body/data/attributes/description',
    );
    await refused(
      () => asUser(t.http.post(ACTIVITIES)).send({ data: { attributes: { subject: 'ok', tags: [[`deep${NUL}`]] } } }),
      'body/data/attributes/tags/0/0',
    );
  });

  it('refuses it in a member name', async () => {
    await refused(
      () => asUser(t.http.post(ACTIVITIES)).send({ data: { attributes: { [`sub${NUL}ject`]: 'x' } } }),
      'body/data/attributes (a member name)',
    );
  });

  it('refuses it in a search filter', async () => {
    await refused(
      () =>
        asUser(t.http.post('/rest/common/v1/search/activities')).send({
          data: { attributes: { filters: [`subject:eq:${NUL}`] } },
        }),
      'body/data/attributes/filters/0',
    );
  });

  it('refuses it in a composite body, uri and parameters', async () => {
    await refused(
      () =>
        composite(t, {
          requests: [{ method: 'post', uri: ACTIVITIES.slice(5), body: { data: { attributes: { subject: NUL } } } }],
        }),
      'body/requests/0/body/data/attributes/subject',
    );
    await refused(
      () => composite(t, { selections: [{ uri: `/common/v1/activities/${NUL}` }] }),
      'body/selections/0/uri',
    );
    await refused(
      () =>
        composite(t, { selections: [{ uri: '/common/v1/activities', parameters: { filter: [`subject:eq:${NUL}`] } }] }),
      'body/selections/0/parameters/filter/0',
    );
  });
});

describe('in the query string and the path', () => {
  it('refuses it in filter, sort and fields values', async () => {
    await refused(() => asUser(t.http.get(`${ACTIVITIES}?filter=subject:eq:a%00b`)), 'query/filter');
    await refused(
      () => asUser(t.http.get(`${ACTIVITIES}?filter=subject:eq:a&filter=subject:sw:%00`)),
      'query/filter/1',
    );
    await refused(() => asUser(t.http.get(`${ACTIVITIES}?sort=%00subject`)), 'query/sort');
    await refused(() => asUser(t.http.get(`${ACTIVITIES}/${activityId}?fields=subject%00`)), 'query/fields');
  });

  it('refuses it in a path segment', async () => {
    await refused(() => asUser(t.http.get(`${ACTIVITIES}/xc%3A1%00`)), 'path/activityId');
  });
});

describe('in Basic credentials', () => {
  it('refuses it in the username and the password before the database is asked', async () => {
    await refused(
      () => t.http.get(ACTIVITIES).set('Authorization', basic(`ali${NUL}ce`, 'whatever-pw')),
      'The Basic credentials',
    );
    await refused(
      () => t.http.get(ACTIVITIES).set('Authorization', basic('alice', `pw${NUL}`)),
      'The Basic credentials',
    );
    // The right credentials still work afterwards.
    expect((await asUser(t.http.get(ACTIVITIES))).status).toBe(200);
  });
});

(testDatabaseKind() === 'postgres' ? it : it.skip)(
  'maps PostgreSQL data exceptions (class 22) to 400 by their code',
  async () => {
    const caught: unknown[] = [];
    for (const [sql, bindings] of [
      ['select ?::text as t', [`a${NUL}b`]],
      ['select ?::int as n', ['99999999999']],
      ['select ?::int as n', ['x']],
    ] as const) {
      await t.knex.raw(sql, [...bindings]).then(
        () => caught.push('no error'),
        (err: unknown) => caught.push(err),
      );
    }
    expect(caught.map((e) => (e as { code?: string }).code)).toEqual(['22021', '22003', '22P02']);
    for (const err of caught) {
      const mapped = mapDbError(err);
      expect(mapped).toBeInstanceOf(ApiError);
      expect((mapped as ApiError).status).toBe(400);
    }
  },
);
