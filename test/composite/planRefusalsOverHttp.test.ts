// Every plan-stage refusal: a plain 400 naming the subrequest, before any transaction, changing nothing.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { composite, createActivity, snapshot } from './helpers';

let t: TestApp;
let activityId: string;
beforeAll(async () => {
  t = await startTestApp({ COMPOSITE_MAX_SUBREQUESTS: '4' });
  activityId = await createActivity(t);
});
afterAll(async () => t.close());

const ok = {
  method: 'post',
  uri: '/common/v1/activities',
  body: { data: { attributes: { subject: 'would be created' } } },
};

async function refused(body: unknown, expectText: RegExp, index?: number, section = 'requests') {
  const before = await snapshot(t);
  const res = await composite(t, body);
  expect(res.status).toBe(400);
  expect(res.body.requestFailed).toBeUndefined();
  expect(res.body.status).toBe(400);
  expect(res.body.errorCode).toBe('gw.api.rest.exception.BadInputException');
  expect(res.body.userMessage).toMatch(expectText);
  if (index !== undefined) expect(res.body.details[0].properties).toMatchObject({ section, index });
  expect(await snapshot(t)).toBe(before);
}

test.each([
  ['scheme and host', { method: 'post', uri: 'https://evil.example/common/v1/activities' }, /starting with \//],
  ['protocol-relative', { method: 'post', uri: '//evil.example/common/v1/activities' }, /scheme or host/],
  ['double slash', { method: 'post', uri: '/common//v1/activities' }, /\/\//],
  ['dot-dot', { method: 'post', uri: '/common/v1/../v1/activities' }, /\.\. segments/],
  ['encoded dots', { method: 'post', uri: '/common/v1/%2e%2e/activities' }, /encoded dots/],
  ['encoded dots upper', { method: 'post', uri: '/common/v1/activities/%2E%2E' }, /encoded dots/],
  ['query string in uri', { method: 'post', uri: '/common/v1/activities?fields=id' }, /query string/],
  ['/rest prefix', { method: 'post', uri: '/rest/common/v1/activities' }, /relative to \/rest/],
  ['unknown route', { method: 'post', uri: '/common/v1/widgets' }, /no operation matches/],
  ['wrong method for route', { method: 'delete', uri: '/common/v1/activities' }, /DELETE is not an operation/],
  [
    'search POST not allowed',
    { method: 'post', uri: '/common/v1/search/activities', body: { data: { attributes: { filters: [] } } } },
    /searchActivities is not allowed in a composite/,
  ],
  [
    'composite inside composite',
    { method: 'post', uri: '/composite/v1/composite', body: { requests: [] } },
    /executeComposite is not allowed/,
  ],
  [
    'filter parameter on a request',
    { ...ok, parameters: { filter: ['subject:eq:x'] } },
    /"filter" is not allowed here \(requests take only fields\)/,
  ],
  ['unknown parameter', { ...ok, parameters: { colour: 'red' } }, /"colour" is not allowed/],
  [
    'undeclared var',
    { method: 'post', uri: '/common/v1/activities/${nope}/notes', body: { data: { attributes: { body: 'x' } } } },
    /"nope" is not declared/,
  ],
  [
    'undeclared var in body',
    { ...ok, body: { data: { attributes: { subject: 'hello ${ghost}' } } } },
    /"ghost" is not declared/,
  ],
  ['var in a literal segment', { method: 'post', uri: '/common/v1/${x}', body: {} }, /not declared|no operation/],
  ['JSONPath filter expression', { ...ok, vars: [{ name: 'v', path: '$..[?(@.id)]' }] }, /not allowed/],
  ['JSONPath script', { ...ok, vars: [{ name: 'v', path: '$.data[(@.length-1)]' }] }, /not allowed/],
  ['JSONPath junk', { ...ok, vars: [{ name: 'v', path: 'data.attributes.id' }] }, /only \$ followed by/],
  ['body on a DELETE', { method: 'delete', uri: '/common/v1/activities/xc:1', body: { data: {} } }, /takes no body/],
])('refuses %s', async (_name, request, text) => {
  await refused({ requests: [ok, request] }, text, 1);
});

test.each([
  ['get in requests', 'get'],
  ['put', 'put'],
  ['mixed case (only lower or upper case is a method)', 'Patch'],
])('the schema refuses the method %s in requests, naming the subrequest', async (_name, method) => {
  await refused(
    { requests: [ok, { method, uri: '/common/v1/activities/xc:1' }] },
    /body\/requests\/1\/method must be one of: post, patch, delete, POST, PATCH, DELETE/,
  );
});

test('a var referenced before the subrequest that declares it', async () => {
  await refused(
    {
      requests: [
        { method: 'post', uri: '/common/v1/activities/${later}/notes', body: { data: { attributes: { body: 'x' } } } },
        { ...ok, vars: [{ name: 'later', path: '$.data.attributes.id' }] },
      ],
    },
    /"later" is not declared by an earlier subrequest/,
    0,
  );
});

test('a uri used again with another method is matched again: the refusal names that subrequest', async () => {
  const notes = '/common/v1/activities/${a}/notes';
  await refused(
    {
      requests: [
        { ...ok, vars: [{ name: 'a', path: '$.data.attributes.id' }] },
        { method: 'post', uri: notes, body: { data: { attributes: { body: 'x' } } } },
        { method: 'post', uri: notes, body: { data: { attributes: { body: 'y' } } } },
        { method: 'delete', uri: notes },
      ],
    },
    /DELETE is not an operation on \/common\/v1\/activities\/\$\{a\}\/notes/,
    3,
  );
});

test('a var declared twice', async () => {
  await refused(
    {
      requests: [
        { ...ok, vars: [{ name: 'a', path: '$.data.attributes.id' }] },
        { ...ok, vars: [{ name: 'a', path: '$.data.attributes.id' }] },
      ],
    },
    /already declared/,
    1,
  );
});

test('selections: only GET, only flagged parameters', async () => {
  await refused(
    { selections: [{ uri: '/common/v1/activities' }, { method: 'post', uri: '/common/v1/activities' }] },
    /body\/selections\/1\/method must be one of: get, GET/,
  );
  await refused(
    { selections: [{ uri: '/common/v1/activities', parameters: { colour: 'x' } }] },
    /"colour" is not allowed/,
    0,
    'selections',
  );
});

test('parse stage: unknown members, wrong types and empty bodies are refused', async () => {
  await refused({ requests: [{ ...ok, extra: true }] }, /Unknown member "extra"/);
  await refused({ requests: [ok], other: [] }, /Unknown member "other"/);
  await refused({ requests: [{ ...ok, includeResponse: 'no' }] }, /boolean/);
  await refused({ requests: [{ ...ok, vars: [{ name: '1bad', path: '$.x' }] }] }, /pattern/);
  await refused({}, /fewer than 1 properties|at least one/);
  await refused({ requests: [] }, /at least one request or selection/);
});

test('the subrequest limit: exactly COMPOSITE_MAX_SUBREQUESTS runs, one more is refused', async () => {
  const four = await composite(t, {
    requests: [ok, ok, ok],
    selections: [{ uri: `/common/v1/activities/${activityId}` }],
  });
  expect(four.status).toBe(200);
  await refused(
    { requests: [ok, ok, ok], selections: [{ uri: '/common/v1/activities' }, { uri: '/common/v1/activities' }] },
    /at most 4 requests and selections together; this one holds 5/,
  );
});

test('the composite endpoint itself: GET is 405, no body is 400', async () => {
  const get = await t.http.get('/rest/composite/v1/composite').set('Authorization', t.auth('user'));
  expect(get.status).toBe(405);
  expect(get.headers.allow).toBe('POST');
  const empty = await t.http.post('/rest/composite/v1/composite').set('Authorization', t.auth('user'));
  expect(empty.status).toBe(400);
  expect(empty.body.userMessage).toMatch(/body is required/);
});
