// The durable requests in the OpenAPI document (SPEC §6, §8): Idempotency-Key and Prefer on every
// write, their 202/409/422 answers, and the async API, kept out of composites.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
type Op = {
  operationId: string;
  summary: string;
  tags: string[];
  parameters: Array<{ name: string; in: string }>;
  responses: Record<string, { headers?: Record<string, unknown> }>;
  'x-gw-allowForCompositeApi': boolean;
};
let paths: Record<string, Record<string, Op>>;
beforeAll(async () => {
  t = await startTestApp();
  paths = (await t.http.get('/openapi.json').set('Authorization', t.auth('reader'))).body.paths;
});
afterAll(async () => t.close());

test('every POST, PATCH and DELETE takes Idempotency-Key and Prefer and declares 202 (with GW-Async-Location), 409 and 422; GETs do not', () => {
  const ops = Object.values(paths).flatMap((item) => Object.entries(item));
  expect(ops.length).toBeGreaterThan(10);
  for (const [method, op] of ops) {
    const headers = op.parameters.filter((p) => p.in === 'header').map((p) => p.name);
    const durable = method !== 'get';
    expect(`${op.operationId}: ${headers.includes('Idempotency-Key')} ${headers.includes('Prefer')}`).toBe(
      `${op.operationId}: ${durable} ${durable}`,
    );
    expect(`${op.operationId}: ${['202', '409', '422'].every((s) => s in op.responses)}`).toBe(
      `${op.operationId}: ${durable}`,
    );
    if (durable) expect(op.responses['202'].headers).toHaveProperty('GW-Async-Location');
  }
});

test('the async API: two GETs with a summary, a tag, 400/401/404 answers, and not allowed in a composite', async () => {
  const record = paths['/async/v1/requests/{requestId}'].get;
  const response = paths['/async/v1/requests/{requestId}/response'].get;
  for (const op of [record, response]) {
    expect(op.summary.length).toBeGreaterThan(10);
    expect(op.tags).toEqual(['Asynchronous calls']);
    expect(op['x-gw-allowForCompositeApi']).toBe(false);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
  }
  const own = await t.http.get('/rest/async/v1/openapi.json').set('Authorization', t.auth('reader'));
  expect(own.status).toBe(200);
  expect(Object.keys(own.body.paths).sort()).toEqual([
    '/async/v1/requests/{requestId}',
    '/async/v1/requests/{requestId}/response',
  ]);
  const inComposite = await t.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', t.auth('user'))
    .send({ selections: [{ uri: '/async/v1/requests/00000000-0000-0000-0000-000000000000' }] });
  expect(inComposite.status).toBe(400);
});
