// Owns the OpenAPI 3.1 documents, built from the route table — the same operations, schemas and
// composite flags that routing, validation and the composite dispatcher use.
import { OpenApiBuilder, type OpenAPIObject, type OperationObject, type ParameterObject, type SchemaObject } from 'openapi3-ts/oas31';
import type { ApiName, Operation } from '../api/operation';

const TITLES: Record<ApiName, string> = {
  common: 'Common API — activities, notes, search',
  admin: 'Admin API — users, connector registry',
  composite: 'Composite API — many writes in one transaction',
  connectors: 'Connectors API — declarative outbound HTTP chains',
  async: 'Async API — the records and answers of asynchronous calls',
};

/** TypeBox schemas carry symbol keys; a JSON round trip leaves plain JSON Schema. */
function plain<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema)) as T;
}

function operationObject(op: Operation): OperationObject {
  const pathParams: ParameterObject[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1], in: 'path', required: true, schema: { type: 'string' }, description: `Public id (${m[1]})`,
  }));
  const queryParams: ParameterObject[] = op.queryParams.map((p) => ({
    name: p.name, in: 'query', required: false, description: p.description,
    schema: plain(p.schema), ...(p.schema.type === 'array' ? { style: 'form', explode: true } : {}),
    'x-gw-allowForCompositeApi': p.allowForComposite,
  }));
  const headerParams: ParameterObject[] = op.checksumHeader
    ? [{ name: 'GW-Checksum', in: 'header', required: false, schema: { type: 'string' }, description: 'Refuse with 409 unless this is the current checksum' }]
    : [];
  const durable = op.method !== 'get';
  if (durable) headerParams.push(...DURABLE_HEADERS);
  const responses: NonNullable<OperationObject['responses']> = durable ? durableResponses() : {};
  for (const r of op.responses) {
    // An operation's own 409 (a checksum mismatch) is also the durable one: both are said.
    const durableMeaning = responses[String(r.status)]?.description as string | undefined;
    const description = durableMeaning ? `${r.description}; or: ${durableMeaning.charAt(0).toLowerCase()}${durableMeaning.slice(1)}` : r.description;
    responses[String(r.status)] = r.schema
      ? { description, content: { 'application/json': { schema: plain(r.schema) } } }
      : { description, content: r.status >= 400 ? { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } : undefined };
    if (!responses[String(r.status)].content) delete responses[String(r.status)].content;
  }
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    parameters: [...pathParams, ...queryParams, ...headerParams],
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(op.body) } } } } : {}),
    ...(op.rawBody ? { requestBody: { required: false, content: { '*/*': { schema: {} } } } } : {}),
    responses,
    'x-gw-allowForCompositeApi': op.allowForComposite,
    'x-gw-roles': [...op.roles],
  };
}

/** Every write, composite and batch takes these (SPEC §8, src/durable). */
const DURABLE_HEADERS: ParameterObject[] = [
  {
    name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 255 },
    description: 'Run once: a retry with this key (same caller, method, path and body) gets the stored answer with Idempotent-Replayed: true. Kept IDEMPOTENCY_TTL_HOURS.',
  },
  {
    name: 'Prefer', in: 'header', required: false, schema: { type: 'string', examples: ['respond-async', 'respond-async, wait=5'] },
    description: 'respond-async: store the request, answer 202 with GW-Async-Location, run it in the background; wait=N: answer normally if it finishes within N seconds.',
  },
];

const ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/** The answers the durable headers add; an operation's own entries for the same statuses take their place. */
function durableResponses(): NonNullable<OperationObject['responses']> {
  return {
    202: {
      description: 'Accepted (Prefer: respond-async): read the record at GW-Async-Location',
      headers: { 'GW-Async-Location': { description: 'The record of the request, relative to /rest: /async/v1/requests/{id}', schema: { type: 'string' } } },
    },
    409: { description: 'A request with this Idempotency-Key is still running', content: ERROR_CONTENT },
    422: { description: 'This Idempotency-Key was used for a different request', content: ERROR_CONTENT },
  };
}

const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status', 'errorCode', 'userMessage', 'developerMessage', 'details'],
  properties: {
    status: { type: 'integer' },
    errorCode: { type: 'string' },
    userMessage: { type: 'string' },
    developerMessage: { type: 'string' },
    details: { type: 'array', items: { type: 'object', properties: { message: { type: 'string' }, properties: { type: 'object' } } } },
  },
};

export function buildOpenApi(ops: Operation[], api?: ApiName): OpenAPIObject {
  const builder = OpenApiBuilder.create()
    .addOpenApiVersion('3.1.0')
    .addTitle(api ? TITLES[api] : 'Composite API server')
    .addVersion('1.0.0')
    .addDescription('Operations flagged `x-gw-allowForCompositeApi: true` (and query parameters flagged the same way) may be used inside POST /rest/composite/v1/composite.')
    .addSchema('Error', ERROR_SCHEMA)
    .addSecurityScheme('basic', { type: 'http', scheme: 'basic' })
    .addSecurityScheme('bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const doc = builder.getSpec();
  doc.security = [{ basic: [] }, { bearer: [] }];
  doc.paths = {};
  for (const op of ops) {
    if (api && op.api !== api) continue;
    const path = `/rest/${op.api}/v1${op.path}`;
    doc.paths[path] = { ...(doc.paths[path] ?? {}), [op.method]: operationObject(op) };
  }
  return doc;
}
