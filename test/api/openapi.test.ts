// The OpenAPI documents over HTTP (SPEC §6): valid OpenAPI 3.1 (checked by @seriousme/openapi-schema-validator),
// a boolean x-gw-allowForCompositeApi on every operation and query parameter, and schemas that are the
// ones the server validates with — the same JSON, the same accept/reject decisions, and responses that match them.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components: { schemas: Record<string, unknown> };
};
type OperationDoc = {
  operationId: string;
  parameters: Array<{ name: string; in: string; schema: unknown; 'x-gw-allowForCompositeApi'?: unknown }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  'x-gw-allowForCompositeApi'?: unknown;
};
let whole: Doc;
type Item = { attributes: Record<string, unknown> };

const ROOT = path.resolve(__dirname, '../..');

/** The validator is ES-module only, so it runs in a child Node process (Jest here runs CommonJS). */
function validateOpenApi(docs: unknown[]): Array<{ valid: boolean; version: string; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    import { readFileSync } from 'node:fs';
    const results = [];
    for (const doc of JSON.parse(readFileSync(0, 'utf8'))) {
      const v = new Validator();
      const res = await v.validate(doc);
      results.push({ valid: res.valid, version: v.version, errors: res.errors });
    }
    process.stdout.write(JSON.stringify(results));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    input: JSON.stringify(docs),
  });
  return JSON.parse(out.toString()) as Array<{ valid: boolean; version: string; errors?: unknown }>;
}

const APIS = ['common', 'admin', 'composite', 'connectors'];
const perApi: Record<string, Doc> = {};
let validation: ReturnType<typeof validateOpenApi>;

function operations(doc: Doc): Array<[string, string, OperationDoc]> {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item).map(([m, op]) => [p, m, op] as [string, string, OperationDoc]),
  );
}

function opById(id: string): OperationDoc {
  const found = operations(whole).find(([, , op]) => op.operationId === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found[2];
}

/** A published schema with every $ref to a component replaced by the component itself. */
function resolved(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(resolved);
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref !== undefined) return resolved(whole.components.schemas[ref.replace('#/components/schemas/', '')]);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolved(v)]));
}

/** A route-table schema as JSON, without the marks that name components (the published document drops them). */
function unmarked(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema, (key, value: unknown) => (key === 'x-gw-component' ? undefined : value)));
}

beforeAll(async () => {
  t = await startTestApp();
  const res = await t.http.get('/openapi.json').set('Authorization', t.auth('reader'));
  expect(res.status).toBe(200);
  whole = res.body as Doc;
  for (const api of APIS) {
    const one = await t.http.get(`/rest/${api}/v1/openapi.json`).set('Authorization', t.auth('user'));
    expect(one.status).toBe(200);
    perApi[api] = one.body as Doc;
  }
  // a broken document is refused by the same check, so the check can fail
  const broken = JSON.parse(JSON.stringify(whole)) as Doc;
  (broken.paths['/common/v1/activities'].get as unknown as Record<string, unknown>).responses = 'none';
  validation = validateOpenApi([whole, broken, ...APIS.map((api) => perApi[api])]);
});
afterAll(async () => {
  await t.close();
});

describe('OpenAPI documents', () => {
  it('/openapi.json is a valid OpenAPI 3.1 document of every API in the route table', () => {
    expect(whole.openapi).toBe('3.1.0');
    expect(validation[0]).toMatchObject({ valid: true, version: '3.1' });
    expect(validation[1].valid).toBe(false);
    const ids = operations(whole)
      .map(([, , op]) => op.operationId)
      .sort();
    expect(ids).toEqual(t.operations.map((c) => c.op.operationId).sort());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'listActivities',
      'createActivity',
      'getActivity',
      'updateActivity',
      'deleteActivity',
      'assignActivity',
      'completeActivity',
      'searchActivities',
      'listActivityNotes',
      'createActivityNote',
      'getNote',
      'updateNote',
      'deleteNote',
      'listUsers',
      'createUser',
      'getUser',
      'updateUser',
      'deleteUser',
    ]) {
      expect(ids).toContain(id);
    }
  });

  it('each /rest/<api>/v1/openapi.json is valid and holds only that API', async () => {
    for (const [i, api] of APIS.entries()) {
      const doc = perApi[api];
      expect(validation[i + 2]).toMatchObject({ valid: true, version: '3.1' });
      for (const p of Object.keys(doc.paths)) expect(p.startsWith(`/${api}/v1/`)).toBe(true);
      const expected = Object.keys(whole.paths)
        .filter((p) => p.startsWith(`/${api}/v1/`))
        .sort();
      expect(Object.keys(doc.paths).sort()).toEqual(expected);
    }
    expect(Object.keys(perApi.common.paths)).toEqual(
      expect.arrayContaining([
        '/common/v1/activities',
        '/common/v1/activities/{activityId}/notes',
        '/common/v1/search/activities',
      ]),
    );
  });

  it('flags every operation and every query parameter with a boolean x-gw-allowForCompositeApi; search is false', () => {
    let queryParams = 0;
    for (const [p, m, op] of operations(whole)) {
      expect(`${m} ${p}: ${typeof op['x-gw-allowForCompositeApi']}`).toBe(`${m} ${p}: boolean`);
      for (const param of op.parameters ?? []) {
        if (param.in !== 'query') continue;
        queryParams++;
        expect(`${m} ${p} ?${param.name}: ${typeof param['x-gw-allowForCompositeApi']}`).toBe(
          `${m} ${p} ?${param.name}: boolean`,
        );
      }
    }
    expect(queryParams).toBeGreaterThan(30);
    const search = opById('searchActivities');
    expect(search['x-gw-allowForCompositeApi']).toBe(false);
    expect(
      search.parameters.filter((q) => q.in === 'query').every((q) => q['x-gw-allowForCompositeApi'] === false),
    ).toBe(true);
    const list = opById('listActivities');
    expect(list['x-gw-allowForCompositeApi']).toBe(true);
    expect(
      list.parameters
        .filter((q) => q.in === 'query')
        .map((q) => q.name)
        .sort(),
    ).toEqual(['fields', 'filter', 'includeTotal', 'pageOffset', 'pageSize', 'sort']);
    for (const id of [
      'createActivity',
      'updateActivity',
      'deleteActivity',
      'assignActivity',
      'completeActivity',
      'createActivityNote',
      'getNote',
    ]) {
      expect(opById(id)['x-gw-allowForCompositeApi']).toBe(true);
    }
    // every operation that honours GW-Checksum documents it
    for (const id of [
      'updateActivity',
      'deleteActivity',
      'assignActivity',
      'completeActivity',
      'updateNote',
      'deleteNote',
      'updateUser',
      'deleteUser',
    ]) {
      expect(`${id}: ${opById(id).parameters.some((q) => q.in === 'header' && q.name === 'GW-Checksum')}`).toBe(
        `${id}: true`,
      );
    }
    // the flags are the route table's
    for (const c of t.operations)
      expect(opById(c.op.operationId)['x-gw-allowForCompositeApi']).toBe(c.op.allowForComposite);
  });

  it('publishes exactly the schemas the server validates with', () => {
    for (const { op } of t.operations) {
      const doc = opById(op.operationId);
      if (op.body) expect(resolved(doc.requestBody?.content['application/json'].schema)).toEqual(unmarked(op.body));
      const published = Object.fromEntries(
        doc.parameters.filter((q) => q.in === 'query').map((q) => [q.name, resolved(q.schema)]),
      );
      expect(published).toEqual(Object.fromEntries(op.queryParams.map((q) => [q.name, unmarked(q.schema)])));
    }
  });

  it('the published request schemas accept and refuse exactly what the server does', async () => {
    const ajv = addFormats(new Ajv({ strict: false }));
    const check = ajv.compile(opById('createActivity').requestBody?.content['application/json'].schema as object);
    const samples: unknown[] = [
      { data: { attributes: { subject: 'ok' } } },
      { data: { attributes: { subject: 'ok', priority: { code: 'low' }, dueDate: '2030-01-01', description: null } } },
      { data: { attributes: { subject: 'ok', priority: { code: 'nope' } } } },
      { data: { attributes: { subject: 'ok', status: { code: 'open' } } } },
      { data: { attributes: { subject: '' } } },
      { data: { attributes: { subject: 'ok', dueDate: '2030-1-1' } } },
      { data: { attributes: { subject: 'ok' }, checksum: '0' } },
      { data: { attributes: {} } },
      { data: { attributes: { subject: 'ok', unknown: 1 } } },
    ];
    for (const sample of samples) {
      const res = await t.http
        .post('/rest/common/v1/activities')
        .set('Authorization', t.auth('user'))
        .send(sample as object);
      expect(`${JSON.stringify(sample)} → ${res.status}`).toBe(
        `${JSON.stringify(sample)} → ${check(sample) ? 201 : 400}`,
      );
    }
  });

  it('real responses match the published response schemas', async () => {
    const ajv = addFormats(new Ajv({ strict: false }));
    const activity = await t.http
      .post('/rest/common/v1/activities?fields=*all')
      .set('Authorization', t.auth('user'))
      .send({
        data: {
          attributes: {
            subject: 'documented',
            description: 'd',
            dueDate: '2030-02-03',
            assignedUser: { id: t.ids.user },
          },
        },
      });
    const id = activity.body.data.attributes.id;
    const note = await t.http
      .post(`/rest/common/v1/activities/${id}/notes?fields=*all`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { body: 'b', subject: 's', topic: { code: 'other' }, confidential: true } } });
    const cases: Array<[string, number, unknown]> = [
      ['createActivity', 201, activity.body],
      ['createActivityNote', 201, note.body],
      [
        'getActivity',
        200,
        (await t.http.get(`/rest/common/v1/activities/${id}?fields=*all`).set('Authorization', t.auth('user'))).body,
      ],
      [
        'listActivities',
        200,
        (
          await t.http
            .get('/rest/common/v1/activities?fields=*all&includeTotal=true')
            .set('Authorization', t.auth('user'))
        ).body,
      ],
      [
        'listActivityNotes',
        200,
        (await t.http.get(`/rest/common/v1/activities/${id}/notes?fields=*all`).set('Authorization', t.auth('user')))
          .body,
      ],
      [
        'getNote',
        200,
        (
          await t.http
            .get(`/rest/common/v1/notes/${note.body.data.attributes.id}?fields=*all`)
            .set('Authorization', t.auth('user'))
        ).body,
      ],
      [
        'listUsers',
        200,
        (await t.http.get('/rest/admin/v1/users?fields=*all').set('Authorization', t.auth('admin'))).body,
      ],
      [
        'searchActivities',
        200,
        (
          await t.http
            .post('/rest/common/v1/search/activities')
            .set('Authorization', t.auth('user'))
            .send({ data: { attributes: {} } })
        ).body,
      ],
    ];
    for (const [operationId, status, body] of cases) {
      const schema = opById(operationId).responses[String(status)].content?.['application/json'].schema;
      const validate = ajv.compile(schema as object);
      const ok = validate(body);
      expect(`${operationId}: ${ok ? 'valid' : JSON.stringify(validate.errors)}`).toBe(`${operationId}: valid`);
      // and no attribute is returned that the document does not declare
      const b = body as { data: Item | Item[] };
      const items = Array.isArray(b.data) ? b.data : [b.data];
      const itemSchema = (
        Array.isArray(b.data)
          ? (schema as { properties: { data: { items: unknown } } }).properties.data.items
          : (schema as { properties: { data: unknown } }).properties.data
      ) as { properties: { attributes: { properties: Record<string, unknown> } } };
      const declared = Object.keys(itemSchema.properties.attributes.properties);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(declared).toEqual(expect.arrayContaining(Object.keys(item.attributes)));
    }
    const errorSchema = ajv.compile(whole.components.schemas.Error as object);
    const notFound = await t.http.get('/rest/common/v1/activities/xc:999999').set('Authorization', t.auth('user'));
    expect(errorSchema(notFound.body)).toBe(true);
  });
});
