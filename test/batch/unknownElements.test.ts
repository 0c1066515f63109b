// GW-UnknownPropertyHandling / GW-UnknownQueryParamHandling (SPEC §8): reject (default), log (dropped,
// one log line per request) or ignore — on bodies and query strings, directly, in a composite and in a batch.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite } from '../composite/helpers';
import { batch } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const ACTIVITIES = '/rest/common/v1/activities';
const PROPS = 'GW-UnknownPropertyHandling';
const PARAMS = 'GW-UnknownQueryParamHandling';
const withColour = (subject: string) => ({ data: { attributes: { subject, colour: 'red' } }, extra: true });

/** The log lines that report dropped elements, written while `send` ran. */
async function reportsDuring<T>(send: () => Promise<T>): Promise<{ res: T; reports: Array<Record<string, unknown>> }> {
  const from = t.logs.length;
  const res = await send();
  const reports = t.logs
    .slice(from)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'unknown request elements ignored');
  return { res, reports };
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .set(headers)
    .send(body as object);
const list = (query: string, headers: Record<string, string> = {}) =>
  t.http.get(`${ACTIVITIES}?${query}`).set('Authorization', t.auth('user')).set(headers);

test('a body: reject (default and explicit) refuses, log drops and logs once, ignore drops silently', async () => {
  for (const headers of [{}, { [PROPS]: 'reject' }] as Array<Record<string, string>>) {
    const res = await post(withColour('rejected'), headers);
    expectError(res, 400);
    expect(res.body.userMessage).toMatch(/Unknown member/);
  }
  const logged = await reportsDuring(() => post(withColour('logged'), { [PROPS]: 'log' }));
  expect(logged.res.status).toBe(201);
  expect(logged.res.body.data.attributes).not.toHaveProperty('colour');
  expect(logged.reports).toHaveLength(1);
  expect((logged.reports[0].unknownProperties as string[]).sort()).toEqual(['/data/attributes/colour', '/extra']);
  const ignored = await reportsDuring(() => post(withColour('ignored'), { [PROPS]: 'IGNORE' }));
  expect(ignored.res.status).toBe(201);
  expect(ignored.reports).toHaveLength(0);
  expect(
    (await t.knex('activities').whereIn('subject', ['rejected', 'logged', 'ignored']))
      .map((r: { subject: string }) => r.subject)
      .sort(),
  ).toEqual(['ignored', 'logged']);
  // Dropping unknown members never lets a bad known one through.
  expectError(await post({ data: { attributes: { subject: 7, colour: 'red' } } }, { [PROPS]: 'ignore' }), 400);
});

test('a query string: reject refuses, log drops and logs once, ignore drops silently', async () => {
  expectError(await list('pageSize=1&colour=red'), 400);
  expectError(await list('pageSize=1&colour=red', { [PARAMS]: 'reject' }), 400);
  const logged = await reportsDuring(() => list('pageSize=1&colour=red&shade=dark', { [PARAMS]: 'log' }));
  expect(logged.res.status).toBe(200);
  expect(logged.res.body.count).toBe(1);
  expect(logged.reports).toHaveLength(1);
  expect(logged.reports[0].unknownQueryParams).toEqual(['colour', 'shade']);
  const ignored = await reportsDuring(() => list('pageSize=1&colour=red', { [PARAMS]: 'ignore' }));
  expect(ignored.res.status).toBe(200);
  expect(ignored.reports).toHaveLength(0);
  // The property header does not cover query parameters, nor the other way round.
  expectError(await list('pageSize=1&colour=red', { [PROPS]: 'ignore' }), 400);
  expectError(await post(withColour('x'), { [PARAMS]: 'ignore' }), 400);
  // A bad value of a known parameter is still refused.
  expectError(await list('pageSize=many&colour=red', { [PARAMS]: 'ignore' }), 400);
});

test('a bad header value is a 400 naming the header', async () => {
  for (const header of [PROPS, PARAMS]) {
    const res = await list('pageSize=1', { [header]: 'sometimes' });
    expectError(res, 400);
    expect(res.body.details[0].properties.header).toBe(header);
  }
});

test("inside a composite the composite request's value applies to every subrequest, logged once", async () => {
  const body = {
    requests: [
      { method: 'post', uri: '/common/v1/activities', body: withColour('in composite'), parameters: { colour: 'red' } },
      { method: 'post', uri: '/common/v1/activities', body: withColour('in composite 2') },
    ],
    selections: [{ uri: '/common/v1/activities', parameters: { pageSize: 1, shade: 'dark' } }],
  };
  const rejected = await composite(t, body);
  expectError(rejected, 400);
  const bodyOnly = { requests: body.requests.map(({ parameters: _p, ...r }) => r) };
  const refusedBody = await composite(t, bodyOnly);
  expect(refusedBody.status).toBe(400);
  expect(refusedBody.body.requestFailed).toBe(true);
  const logged = await reportsDuring(() => composite(t, body, 'user', { [PROPS]: 'log', [PARAMS]: 'log' }));
  expect(logged.res.status).toBe(200);
  expect(logged.res.body.responses.map((r: { status: number }) => r.status)).toEqual([201, 201]);
  expect(logged.res.body.selections[0].status).toBe(200);
  expect(logged.reports).toHaveLength(1);
  expect(logged.reports[0].unknownQueryParams).toEqual(['colour', 'shade']);
  expect((logged.reports[0].unknownProperties as string[]).sort()).toEqual(['/data/attributes/colour', '/extra']);
  const ignored = await reportsDuring(() => composite(t, body, 'user', { [PROPS]: 'ignore', [PARAMS]: 'ignore' }));
  expect(ignored.res.status).toBe(200);
  expect(ignored.reports).toHaveLength(0);
});

test("inside a batch the main request's value applies to every subrequest, whatever a subrequest says", async () => {
  const requests = [
    { method: 'post', path: '/activities', body: withColour('in batch'), headers: [{ name: PROPS, value: 'reject' }] },
    { method: 'get', path: '/activities', query: 'pageSize=1&colour=red' },
  ];
  const rejected = await batch(t, { requests });
  expect(rejected.body.responses.map((r: { status: number }) => r.status)).toEqual([400, 400]);
  const logged = await reportsDuring(() => batch(t, { requests }, { headers: { [PROPS]: 'log', [PARAMS]: 'log' } }));
  expect(logged.res.body.responses.map((r: { status: number }) => r.status)).toEqual([201, 200]);
  expect(logged.reports).toHaveLength(1);
  expect(logged.reports[0].unknownQueryParams).toEqual(['colour']);
});

test('OpenAPI declares the handling headers on the operations they apply to', async () => {
  const doc = (await t.http.get('/openapi.json').set('Authorization', t.auth('user'))).body;
  type Param = { name: string; in: string; schema: { enum?: string[] } };
  const headers = (op: { parameters: Param[] }) => op.parameters.filter((p) => p.in === 'header');
  const names = (op: { parameters: Param[] }) => headers(op).map((p) => p.name);
  const post = doc.paths['/common/v1/activities'].post;
  expect(names(post)).toEqual(['GW-DoNotCommit', PROPS, 'GW-UnknownQueryParamHandling', 'Idempotency-Key', 'Prefer']);
  expect(headers(post).find((p) => p.name === PROPS)!.schema.enum).toEqual(['reject', 'log', 'ignore']);
  expect(names(doc.paths['/common/v1/activities'].get)).toEqual(['GW-UnknownQueryParamHandling']);
  expect(names(doc.paths['/composite/v1/composite'].post)).toContain('GW-DoNotCommit');
  expect(names(doc.paths['/common/v1/batch'].post)).toContain('GW-DoNotCommit');
});
