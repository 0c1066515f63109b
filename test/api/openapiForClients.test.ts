// What a client generator needs from /openapi.json (issue 18): the composite's answers as named schemas that
// real answers match, methods as enums, request and response headers declared, paths that are right under
// the declared server, and a description, a tag and 4xx answers on every operation — derived, so an
// operation added without them still gets them.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import { READERS, type Operation } from '../../src/api/operation';
import { buildOpenApi } from '../../src/openapi/build';
import { composite } from '../composite/helpers';
import { startTestApp, type TestApp } from '../helpers/testApp';

type Schema = Record<string, unknown>;
type Op = {
  operationId: string;
  description?: string;
  tags: string[];
  parameters: Array<{ name: string; in: string; schema: Schema }>;
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }>;
};
type Doc = {
  servers: Array<{ url: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, Schema> };
};

let t: TestApp;
let doc: Doc;
beforeAll(async () => {
  t = await startTestApp();
  doc = (await t.http.get('/openapi.json').set('Authorization', t.auth('reader'))).body as Doc;
});
afterAll(async () => t.close());

const ops = () =>
  Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).map(([m, op]) => ({ p, m, op })));
const op = (id: string) => ops().find((o) => o.op.operationId === id)!.op;

/** A validator for a published schema, its $refs resolved against the document's components. */
function validator(schema: Schema) {
  const ajv = addFormats(new Ajv({ strict: false }));
  ajv.addSchema({ $id: 'doc', components: doc.components });
  return ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components/g, '"doc#/components')));
}

test('the composite answers are named schemas, and real 200 and 400 bodies match exactly one kind per entry', async () => {
  const responses = op('executeComposite').responses;
  expect(responses['200'].content!['application/json'].schema).toEqual({
    $ref: '#/components/schemas/CompositeResponse',
  });
  expect(responses['400'].content!['application/json'].schema).toEqual({
    $ref: '#/components/schemas/CompositeBadRequest',
  });
  expect(doc.components.schemas.CompositeBadRequest.oneOf).toEqual([
    { $ref: '#/components/schemas/Error' },
    { $ref: '#/components/schemas/CompositeRequestFailed' },
  ]);
  expect((doc.components.schemas.Subresponse.oneOf as unknown[]).length).toBe(4);

  const ok = await composite(t, {
    requests: [
      {
        method: 'POST',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'a' } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: 'n' } } },
        includeResponse: false,
      },
    ],
    selections: [{ uri: '/common/v1/activities/${a}' }, { uri: '/common/v1/notes/xc:999999' }],
  });
  expect(ok.status).toBe(200);
  const failed = await composite(t, {
    requests: [
      { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'b' } } } },
      { method: 'delete', uri: '/common/v1/activities/xc:999999' },
      { method: 'delete', uri: '/common/v1/activities/xc:999998' },
    ],
    selections: [{ uri: '/common/v1/activities' }],
  });
  const refused = await composite(t, { requests: [{ method: 'post', uri: '/nowhere' }] });
  expect([failed.status, failed.body.requestFailed, refused.status, refused.body.errorCode]).toEqual([
    400,
    true,
    400,
    'gw.api.rest.exception.BadInputException',
  ]);

  const okSchema = validator(responses['200'].content!['application/json'].schema);
  const badSchema = validator(responses['400'].content!['application/json'].schema);
  for (const [check, body] of [
    [okSchema, ok.body],
    [badSchema, failed.body],
    [badSchema, refused.body],
  ] as const) {
    expect(check(body) ? 'valid' : JSON.stringify(check.errors)).toBe('valid');
  }
  // a 200 body is not a 400 body and the other way round: the schemas tell them apart
  expect([okSchema(failed.body), badSchema(ok.body)]).toEqual([false, false]);
  // every kind of entry was seen, each matching exactly one alternative (else oneOf refuses it)
  const entries = [...ok.body.responses, ...ok.body.selections, ...failed.body.responses, ...failed.body.selections];
  expect(new Set(entries.map((e: Schema) => Object.keys(e).sort().join(',')))).toEqual(
    new Set(['body,headers,status', 'responseIncluded', 'requestError', 'skipped']),
  );
});

test('subrequest methods are enums; the composite declares GW-DBTransaction-ID and Server-Timing', () => {
  const sub = doc.components.schemas.CompositeSubrequest as { properties: { method: Schema } };
  expect(sub.properties.method).toMatchObject({
    type: 'string',
    enum: ['post', 'patch', 'delete', 'POST', 'PATCH', 'DELETE'],
  });
  expect(
    (doc.components.schemas.CompositeSelection as { properties: { method: Schema } }).properties.method,
  ).toMatchObject({ enum: ['get', 'GET'] });
  const c = op('executeComposite');
  expect(c.parameters.find((p) => p.in === 'header' && p.name === 'GW-DBTransaction-ID')).toMatchObject({
    schema: { maxLength: 128 },
  });
  expect(Object.keys(c.responses['200'].headers!)).toEqual(['Server-Timing']);
  expect(Object.keys(c.responses['400'].headers!)).toEqual(['Server-Timing']);
});

test('the composite example the reference shows runs as written', async () => {
  const example = (doc.components.schemas.CompositeRequest.examples as unknown[])[0];
  const res = await composite(t, example);
  expect(res.status).toBe(200);
  expect(res.body.responses[1]).toEqual({ responseIncluded: false });
  expect(res.body.selections[0].body.data.attributes.subject).toBe('Call the insured');
});

test('response headers are declared where the server sends them', async () => {
  expect(Object.keys(op('createActivity').responses['201'].headers!).sort()).toEqual(['GW-Checksum', 'Location']);
  for (const id of ['getActivity', 'updateActivity', 'completeActivity', 'getNote', 'updateUser']) {
    expect(`${id}: ${Object.keys(op(id).responses['200'].headers ?? {})}`).toBe(`${id}: GW-Checksum`);
  }
  const created = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'h' } } });
  expect([created.headers['gw-checksum'], created.headers.location]).toEqual([
    created.body.data.checksum,
    created.body.data.links.self.href,
  ]);
});

test('error details carry properties as an open object, not an empty one', () => {
  const details = (
    doc.components.schemas.Error as { properties: { details: { items: { properties: { properties: Schema } } } } }
  ).properties.details;
  expect(details.items.properties.properties).toMatchObject({ type: 'object', additionalProperties: true });
});

test('paths are right under the declared server: every parameterless GET answers 200 at server + path', async () => {
  expect(doc.servers).toEqual([expect.objectContaining({ url: '/rest' })]);
  const gets = ops().filter(({ p, m }) => m === 'get' && !p.includes('{'));
  expect(gets.length).toBeGreaterThan(3);
  for (const { p } of gets) {
    const res = await t.http.get(`${doc.servers[0].url}${p}`).set('Authorization', t.auth('admin'));
    expect(`${p}: ${res.status}`).toBe(`${p}: 200`);
  }
});

test('every operation has a description, a defined tag and 4xx answers', () => {
  const defined = new Map(doc.tags.map((tag) => [tag.name, tag.description]));
  for (const { p, m, op: o } of ops()) {
    const where = `${m} ${p}`;
    expect(`${where}: ${(o.description ?? '').length > o.operationId.length}`).toBe(`${where}: true`);
    expect(`${where}: ${o.tags.every((tag) => (defined.get(tag) ?? '').length > 0)}`).toBe(`${where}: true`);
    const statuses = Object.keys(o.responses);
    for (const s of ['400', '401', '403']) expect(`${where}: ${statuses.includes(s)}`).toBe(`${where}: true`);
    if (p.includes('{')) expect(`${where}: ${statuses.includes('404')}`).toBe(`${where}: true`);
  }
});

test('an operation declared with only a summary and its success gets a description, a tag text and its 4xx answers', () => {
  const bare: Operation = {
    operationId: 'runLater',
    api: 'common',
    method: 'post',
    path: '/later/{jobId}',
    summary: 'Run a job later',
    tag: 'Async',
    roles: READERS,
    allowForComposite: false,
    queryParams: [],
    body: Type.Object({}),
    transactional: false,
    checksumHeader: true,
    responses: [{ status: 202, description: 'Accepted' }],
    handler: () => ({ status: 202 }),
  };
  const built = buildOpenApi([bare]);
  const o = built.paths!['/common/v1/later/{jobId}'].post!;
  expect(o.description).toBe(
    'Run a job later. Callers with the role admin, user or reader may call it. Not allowed inside a composite (`x-gw-allowForCompositeApi: false`).',
  );
  expect(Object.keys(o.responses!)).toEqual(['202', '400', '401', '403', '404', '409', '422']);
  expect(o.parameters!.map((q) => ('name' in q ? q.name : ''))).toEqual([
    'jobId',
    'GW-Checksum',
    'GW-UnknownPropertyHandling',
    'GW-UnknownQueryParamHandling',
    'Idempotency-Key',
    'Prefer',
  ]);
  expect(built.tags).toEqual([{ name: 'Async', description: 'The Async operations' }]);
});
