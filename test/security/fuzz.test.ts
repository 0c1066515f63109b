// Property-based fuzzing over HTTP (fast-check): random resource bodies, query strings, credentials
// and composites — wrong types, odd strings (NUL, lone surrogates, emoji, template and path
// fragments), huge and fractional numbers, random uris, methods and vars. Whatever is sent: never a
// 5xx; every 4xx is the SPEC §2 error body (a composite's may instead be the requestFailed body around
// one); and a refused request leaves the database exactly as it was.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { startTestApp, basic, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { createActivity, snapshot } from '../composite/helpers';

/** Runs per property; the four together stay within about twenty seconds on either database. */
const RUNS = 150;

let t: TestApp;
let server: http.Server;
let base: string;
let activityId: string;
beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000', COMPOSITE_MAX_SUBREQUESTS: '8' });
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  activityId = await createActivity(t);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

// ---- what is sent ----

const oddString = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfff',
      '😀',
      'e\u0301',
      '${a}',
      '${a',
      '$.data',
      '../admin',
      '%00',
      '%2e%2e',
      'xc:1',
      'xc:99999999999999999999',
      '2026-02-30',
      '2026-01-01T25:00:00Z',
      'high',
      'urgent',
      "'; drop table users; --",
      'subject:eq:x',
      'subject:cn:\u0000',
      'a'.repeat(300),
    ),
    weight: 3,
  },
);
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 5e-324, 99999999999),
);
const oddScalar = fc.oneof(oddString, oddNumber, fc.boolean(), fc.constant(null));
const oddValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddScalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(oddString, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const fieldName = fc.oneof(
  fc.constantFrom(
    'subject',
    'description',
    'dueDate',
    'priority',
    'status',
    'assignedUser',
    'relatedTo',
    'confidential',
    'body',
    'id',
    'createTime',
    'checksum',
  ),
  oddString,
);
const attributes = fc.dictionary(
  fieldName,
  fc.oneof(oddValue, fc.record({ code: oddScalar }), fc.record({ id: oddScalar })),
  { maxKeys: 5 },
);
const envelope = <T>(attrs: fc.Arbitrary<T>) =>
  fc.record({
    data: fc.record(
      { attributes: attrs, checksum: fc.option(oddScalar, { nil: undefined }) },
      { requiredKeys: ['attributes'] },
    ),
  });
const resourceBody = fc.oneof(envelope(attributes), oddValue);
const shaped = <T>(attrs: fc.Arbitrary<T>) => fc.record({ data: fc.record({ attributes: attrs }) });
/** Bodies of the right shape for each operation, so that odd values get past validation to the database. */
const activityAttributes = fc.record({ subject: oddString, description: oddString }, { requiredKeys: ['subject'] });
const shapedBodies = {
  'post-activity': shaped(activityAttributes),
  'patch-activity': shaped(activityAttributes),
  'post-note': shaped(fc.record({ body: oddString })),
  search: shaped(
    fc.record({
      filters: fc.array(fc.oneof(oddString, fc.record({ field: fieldName, op: oddString, value: oddString })), {
        maxLength: 3,
      }),
    }),
  ),
};
type Target = keyof typeof shapedBodies;
const resourceCall = fc.oneof(
  ...(Object.keys(shapedBodies) as Target[]).map((target) =>
    fc.tuple(fc.constant(target), fc.oneof(shapedBodies[target], resourceBody)),
  ),
);

const uri = fc.oneof(
  fc.constantFrom(
    '/common/v1/activities',
    '/common/v1/activities/${a}',
    '/common/v1/activities/${a}/notes',
    '/common/v1/notes/${a}',
    '/common/v1/search/activities',
    '/admin/v1/users',
    '/composite/v1/composite',
    '/common/v1/activities/xc:1',
    '//evil.example/x',
    '/common/v1/../admin/v1/users',
    '/rest/common/v1/activities',
  ),
  oddString.map((s) => `/common/v1/activities/${s}`),
  oddString,
);
const method = fc.oneof(fc.constantFrom('post', 'patch', 'delete', 'get', 'POST', 'put'), oddString);
const vars = fc.array(
  fc.record({
    name: fc.oneof(fc.constantFrom('a', 'b'), oddString),
    path: fc.oneof(fc.constantFrom('$.data.attributes.id', '$.data.checksum', '$..id', '$[?(@.x)]'), oddString),
  }),
  { maxLength: 2 },
);
const parameters = fc.dictionary(
  fc.oneof(fc.constantFrom('fields', 'filter', 'sort', 'pageSize'), oddString),
  fc.oneof(oddScalar, fc.array(oddString, { maxLength: 3 })),
  { maxKeys: 3 },
);
const subrequest = fc.record(
  { method, uri, body: resourceBody, vars, parameters, includeResponse: fc.boolean() },
  { requiredKeys: ['method', 'uri'] },
);
const selections = fc.array(fc.record({ uri, parameters }, { requiredKeys: ['uri'] }), { maxLength: 2 });
/** A first request that declares var a (an activity's id), so later random ones often get to run. */
const declaresA = fc.record({
  method: fc.constant('post'),
  uri: fc.constant('/common/v1/activities'),
  body: shaped(activityAttributes),
  vars: fc.constant([{ name: 'a', path: '$.data.attributes.id' }]),
});
const noteOnA = fc.record({
  method: fc.constant('post'),
  uri: fc.constant('/common/v1/activities/${a}/notes'),
  body: shaped(fc.record({ body: oddString })),
});
const compositeBody = fc.oneof(
  fc.record({ requests: fc.array(subrequest, { maxLength: 4 }), selections }, { requiredKeys: [] }),
  fc.record({
    requests: fc
      .tuple(
        declaresA,
        fc.array(fc.oneof({ arbitrary: noteOnA, weight: 3 }, { arbitrary: subrequest, weight: 1 }), { maxLength: 3 }),
      )
      .map(([first, rest]) => [first, ...rest]),
    selections: fc.oneof(fc.constant([{ uri: '/common/v1/activities/${a}' }]), selections),
  }),
  oddValue,
);

/** Every UTF-8 byte percent-encoded (a lone surrogate becomes U+FFFD, as any client would send it). */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

// ---- what must hold ----

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

async function send(path: string, init: { method: string; body?: unknown; auth?: string }): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: init.method,
    headers: {
      authorization: init.auth ?? t.auth('user'),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => (headers[name] = value));
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers };
}

function expectErrorBody(answer: Answer): void {
  expectError(answer as never, answer.status);
}

/** A refused composite: a plain error body, or requestFailed with exactly one requestError in it. */
function expectCompositeRefusal(answer: Answer): void {
  const body = answer.body as { requestFailed?: boolean; responses?: Array<Record<string, unknown>> };
  if (body?.requestFailed !== true) return expectErrorBody(answer);
  expect(answer.status).toBe(400);
  const failures = (body.responses ?? []).filter((r) => 'requestError' in r);
  expect(failures).toHaveLength(1);
  const inner = failures[0].requestError as { status: number };
  expectErrorBody({ status: inner.status, body: inner, headers: { 'content-type': 'application/json' } });
}

/** Sends, then checks the answer; a refused request must leave every table as it was. */
async function check(
  path: string,
  init: { method: string; body?: unknown; auth?: string },
  composite = false,
): Promise<void> {
  const before = await snapshot(t);
  const answer = await send(path, init);
  expect(answer.status).toBeLessThan(500);
  if (answer.status >= 400) {
    if (composite) expectCompositeRefusal(answer);
    else expectErrorBody(answer);
    expect(await snapshot(t)).toBe(before);
  }
}

const property = (arb: fc.Arbitrary<unknown[]>, run: (...args: unknown[]) => Promise<void>) =>
  fc.assert(
    fc.asyncProperty(arb, (args) => run(...args)),
    { numRuns: RUNS, endOnFailure: true },
  );

test('random resource bodies, created, updated and searched', async () => {
  await property(resourceCall, async (where, body) => {
    const target = {
      'post-activity': { path: '/rest/common/v1/activities', method: 'POST' },
      'patch-activity': { path: `/rest/common/v1/activities/${activityId}`, method: 'PATCH' },
      'post-note': { path: `/rest/common/v1/activities/${activityId}/notes`, method: 'POST' },
      search: { path: '/rest/common/v1/search/activities', method: 'POST' },
    }[where as Target];
    await check(target.path, { method: target.method, body });
  });
}, 60000);

test('random query strings on collections', async () => {
  const pair = fc.tuple(
    fc.constantFrom('filter', 'sort', 'fields', 'pageSize', 'pageOffset', 'includeTotal'),
    fc.oneof(oddString, oddNumber.map(String)),
  );
  await property(fc.tuple(fc.array(pair, { maxLength: 4 })), async (pairs) => {
    const query = (pairs as Array<[string, string]>).map(([k, v]) => `${k}=${percentEncoded(v)}`).join('&');
    await check(`/rest/common/v1/activities?${query}`, { method: 'GET' });
  });
}, 60000);

test('random Basic credentials', async () => {
  await property(fc.tuple(oddString, oddString), async (username, password) => {
    await check('/rest/common/v1/activities', { method: 'GET', auth: basic(username as string, password as string) });
  });
}, 60000);

test('random composites', async () => {
  await property(fc.tuple(compositeBody), async (body) => {
    await check('/rest/composite/v1/composite', { method: 'POST', body }, true);
  });
}, 60000);
