// Owns the OpenAPI 3.1 documents, built from the route table — the same operations, schemas and
// composite flags that routing, validation and the composite dispatcher use.
import type { OpenAPIObject, OperationObject, ParameterObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { RESPONSE_HEADERS, type HeaderDef } from '../api/headers';
import type { ApiName, OpResponse, Operation } from '../api/operation';
import { ErrorBodySchema, hoistComponents } from '../api/schemaComponents';
import { allResponses, operationDescription, requestHeaders, tagDescription } from './derived';

const TITLES: Record<ApiName, string> = {
  common: 'Common API — activities, notes, search',
  admin: 'Admin API — users, connector registry',
  composite: 'Composite API — many writes in one transaction',
  connectors: 'Connectors API — declarative outbound HTTP chains',
  async: 'Async API — the records and answers of asynchronous calls',
};

/** Paths are written relative to the server `/rest`, as composite `uri`s are. */
const SERVER = {
  url: '/rest',
  description: 'This server (paths are relative to /rest, like the uris inside a composite)',
};

/** A schema as published: named parts hoisted into `components`. */
function published(schema: unknown, components: Record<string, unknown>): SchemaObject {
  return hoistComponents(schema, components) as SchemaObject;
}

function headerObject(h: HeaderDef) {
  return { description: h.description, schema: { ...h.schema } };
}

function responseObject(r: OpResponse, components: Record<string, unknown>): ResponseObject {
  const schema = r.schema ?? (r.status >= 400 ? ErrorBodySchema : undefined);
  return {
    description: r.description,
    ...(r.headers?.length
      ? { headers: Object.fromEntries(r.headers.map((name) => [name, headerObject(RESPONSE_HEADERS[name])])) }
      : {}),
    ...(schema ? { content: { 'application/json': { schema: published(schema, components) } } } : {}),
  };
}

function operationObject(op: Operation, components: Record<string, unknown>): OperationObject {
  const pathParams: ParameterObject[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: `Public id (${m[1]})`,
  }));
  const queryParams: ParameterObject[] = op.queryParams.map((p) => ({
    name: p.name,
    in: 'query',
    required: false,
    description: p.description,
    schema: published(p.schema, components),
    ...(p.schema.type === 'array' ? { style: 'form', explode: true } : {}),
    'x-gw-allowForCompositeApi': p.allowForComposite,
  }));
  const headerParams: ParameterObject[] = requestHeaders(op).map((h) => ({
    name: h.name,
    in: 'header',
    required: false,
    ...headerObject(h),
  }));
  const responses = Object.fromEntries(allResponses(op).map((r) => [String(r.status), responseObject(r, components)]));
  return {
    operationId: op.operationId,
    summary: op.summary,
    description: operationDescription(op),
    tags: [op.tag],
    parameters: [...pathParams, ...queryParams, ...headerParams],
    ...(op.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: published(op.body, components) } } } }
      : {}),
    ...(op.rawBody
      ? {
          requestBody: {
            required: false,
            description: 'Any content type; passed on as received',
            content: { '*/*': { schema: {} } },
          },
        }
      : {}),
    responses,
    'x-gw-allowForCompositeApi': op.allowForComposite,
    'x-gw-roles': [...op.roles],
  };
}

export function buildOpenApi(ops: Operation[], api?: ApiName): OpenAPIObject {
  const components: Record<string, unknown> = {};
  const paths: OpenAPIObject['paths'] = {};
  const tags = new Set<string>();
  for (const op of ops) {
    if (api && op.api !== api) continue;
    const path = `/${op.api}/v1${op.path}`;
    paths[path] = { ...(paths[path] ?? {}), [op.method]: operationObject(op, components) };
    tags.add(op.tag);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: api ? TITLES[api] : 'Composite API server',
      version: '1.0.0',
      description:
        'Operations flagged `x-gw-allowForCompositeApi: true` (and query parameters flagged the same way) may be used inside POST /rest/composite/v1/composite. Every operation needs HTTP Basic credentials or a Bearer JWT.',
      license: { name: 'MIT', identifier: 'MIT' },
      contact: { name: 'Composite API server maintainers' },
    },
    servers: [SERVER],
    security: [{ basic: [] }, { bearer: [] }],
    tags: [...tags].sort().map((name) => ({ name, description: tagDescription(name) })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))) as Record<
        string,
        SchemaObject
      >,
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'A user of /rest/admin/v1/users' },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'When JWT_JWKS_URL is set: subject = username, claim roles = roles',
        },
      },
    },
  };
}
