// Owns the connector endpoints of SPEC §5 as operations of the route table: listing and running
// simple and composite connectors (/rest/connectors/v1) and the registry sync (/rest/admin/v1).
// None may run inside a composite: outbound calls cannot be rolled back.
import { Type } from '@sinclair/typebox';
import sjson from 'secure-json-parse';
import { ADMINS, READERS, WRITERS, type OpInput, type OpResult, type Operation } from '../api/operation';
import { REQUEST_HEADERS, type ResponseHeaderName } from '../api/headers';
import { errors } from '../errors';
import type { CompiledComposite, CompiledSimple, CompiledStep } from './compile';
import { ConnectorFailure, type FailureSite } from './failure';
import type { ConnectorRegistry } from './registry';
import type { ClientData, ConnectorRunner, RunOutcome } from './run';
import { timingHeaders } from './timing';

/** A connector run's answer carries its timing (src/connectors/timing.ts), whatever its outcome. */
const RUN_HEADERS: readonly ResponseHeaderName[] = ['Server-Timing', 'X-Connector-Timing'];

const PATH_PARAM_VALUE = /^[A-Za-z0-9._~-]{1,200}$/;
/** Client headers templates never see: the caller's own credentials. */
const PRIVATE_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-path-params']);

const Listing = Type.Object({
  count: Type.Integer(),
  data: Type.Array(Type.Object({}, { additionalProperties: true })),
});
const Single = Type.Object({ data: Type.Object({}, { additionalProperties: true }) });
const SyncStatusSchema = Type.Object(
  {},
  { additionalProperties: true, description: 'registry file, active revision, last attempt and its problems' },
);

function stepView(step: CompiledStep) {
  return {
    name: step.name,
    method: step.method,
    url: step.url.source,
    headers: step.headers.map((h) => h.key),
    queryParameters: step.query.map((q) => q.key),
    authentication: { type: step.auth.type },
  };
}

/** A definition as listed: never header or auth values, never secrets. */
function simpleView(c: CompiledSimple) {
  const { name: _stepName, ...step } = stepView(c.step);
  return { name: c.def.name, permalink: c.def.permalink, ...step, pathParams: c.pathParams };
}

function compositeView(c: CompiledComposite) {
  return {
    name: c.def.name,
    permalink: c.def.permalink,
    ...(c.def.description ? { description: c.def.description } : {}),
    steps: c.steps.map(stepView),
  };
}

function notFound(kind: 'connector' | 'composite connector', permalink: string): ConnectorFailure {
  const shown = permalink.slice(0, 100);
  return new ConnectorFailure('notFound', 'CONNECTOR_NOT_FOUND', `no ${kind} with permalink "${shown}"`, {
    kind: 'connector',
    permalink: shown,
  });
}

function failed(failure: ConnectorFailure, requestId: string, headers: Record<string, string> = {}): OpResult {
  return { status: failure.status, body: failure.toBody(requestId), headers };
}

function outcomeResult(outcome: RunOutcome, requestId: string): OpResult {
  const headers = timingHeaders(outcome.timings, outcome.totalMs);
  if (!outcome.ok) return failed(outcome.failure, requestId, headers);
  return { status: outcome.status, headers, raw: { contentType: outcome.contentType, body: outcome.body } };
}

/** X-Path-Params: a JSON object of unreserved values; exactly the parameters the URL reads. */
export function parsePathParams(
  header: string | undefined,
  required: readonly string[],
  site: FailureSite,
): Record<string, string> {
  const bad = (detail: string) => new ConnectorFailure('pathParams', 'INVALID_PATH_PARAMS', detail, site);
  let given: unknown = {};
  if (header !== undefined) {
    try {
      given = sjson.parse(header, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw bad('X-Path-Params must be a JSON object');
    }
  }
  if (!given || typeof given !== 'object' || Array.isArray(given)) throw bad('X-Path-Params must be a JSON object');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
    if (!required.includes(key)) throw bad(`path parameter "${key.slice(0, 50)}" is not used by this connector`);
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !PATH_PARAM_VALUE.test(text) || text.includes('..')) {
      throw bad(`path parameter "${key}" must be 1-200 of A-Z a-z 0-9 - . _ ~ (and not "..")`);
    }
    out[key] = encodeURIComponent(text);
  }
  const missing = required.filter((k) => out[k] === undefined);
  if (missing.length > 0)
    throw bad(
      `missing path parameter${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (send them in X-Path-Params)`,
    );
  return out;
}

function clientData(input: OpInput, pathParams: Record<string, string>): ClientData {
  const body = input.rawBody ?? Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers))
    if (v !== undefined && !PRIVATE_HEADERS.has(k)) headers[k] = String(v);
  return {
    body,
    bodyText: body.toString('utf8'),
    bodyRaw: body.toString('base64'),
    contentType: input.headers['content-type'],
    headers,
    query: input.query,
    pathParams,
  };
}

const base = { queryParams: [], transactional: false, allowForComposite: false } as const;

type Definitions = Awaited<ReturnType<ConnectorRegistry['current']>>;

/** The listing and the one-item read of a kind of connector (readers may see them; no secrets in either view). */
function listAndGet<C>(
  registry: ConnectorRegistry,
  o: {
    kind: 'connector' | 'composite connector';
    plural: string;
    path: string;
    label: string;
    pick: (defs: Definitions) => ReadonlyMap<string, C>;
    view: (c: C) => unknown;
  },
): Operation[] {
  const singular = o.plural.replace(/s$/, '');
  return [
    {
      ...base,
      operationId: `list${o.plural}`,
      api: 'connectors',
      method: 'get',
      path: o.path,
      tag: 'Connectors',
      summary: `List ${o.label}s (no header, auth or secret values)`,
      roles: READERS,
      responses: [{ status: 200, description: `${o.label[0].toUpperCase()}${o.label.slice(1)}s`, schema: Listing }],
      handler: async () => {
        const data = [...o.pick(await registry.current()).values()].map(o.view);
        return { status: 200, body: { count: data.length, data } };
      },
    },
    {
      ...base,
      operationId: `get${singular}`,
      api: 'connectors',
      method: 'get',
      path: `${o.path}/{permalink}`,
      tag: 'Connectors',
      summary: `One ${o.label}`,
      roles: READERS,
      responses: [
        { status: 200, description: `The ${o.label}`, schema: Single },
        { status: 404, description: 'Unknown permalink' },
      ],
      handler: async (ctx, input) => {
        const c = o.pick(await registry.current()).get(input.params.permalink);
        return c
          ? { status: 200, body: { data: o.view(c) } }
          : failed(notFound(o.kind, input.params.permalink), ctx.requestId);
      },
    },
  ];
}

export function connectorOperations(registry: ConnectorRegistry, runner: ConnectorRunner): Operation[] {
  return [
    {
      ...base,
      operationId: 'getConnectorSync',
      api: 'admin',
      method: 'get',
      path: '/connectors/sync',
      tag: 'Connectors',
      summary: 'When the connector registry was last synced, and why a sync was refused',
      roles: ADMINS,
      responses: [{ status: 200, description: 'Sync status', schema: SyncStatusSchema }],
      handler: async () => ({ status: 200, body: await registry.status() }),
    },
    {
      ...base,
      operationId: 'syncConnectors',
      api: 'admin',
      method: 'post',
      path: '/connectors/sync',
      tag: 'Connectors',
      summary: 'Sync CONNECTORS_REGISTRY now (all or nothing)',
      roles: ADMINS,
      responses: [
        { status: 200, description: 'Synced; the status after the sync', schema: SyncStatusSchema },
        { status: 400, description: 'The file was refused; the previous definitions stay in force' },
        { status: 409, description: 'CONNECTORS_REGISTRY is not set' },
      ],
      handler: async () => {
        if (!registry.configured)
          throw errors.conflict('CONNECTORS_REGISTRY is not set; there is no registry file to sync');
        const result = await registry.sync('api');
        if (!result.ok) {
          throw errors.badInput(
            'The connectors registry was refused; the previous definitions stay in force',
            result.problems.map((p) => ({ message: `${p.path}: ${p.message}`, properties: { path: p.path } })),
          );
        }
        return { status: 200, body: await registry.status() };
      },
    },
    ...listAndGet(registry, {
      kind: 'connector',
      plural: 'Connectors',
      path: '/connectors',
      label: 'simple connector',
      pick: (r) => r.simple,
      view: simpleView,
    }),
    ...listAndGet(registry, {
      kind: 'composite connector',
      plural: 'CompositeConnectors',
      path: '/composite',
      label: 'composite connector',
      pick: (r) => r.composite,
      view: compositeView,
    }),
    {
      ...base,
      operationId: 'executeConnector',
      api: 'connectors',
      method: 'post',
      path: '/connectors/{permalink}/execute',
      tag: 'Connectors',
      summary:
        'Run a simple connector: body = payload, query string = query parameters, X-Path-Params = path parameters',
      roles: WRITERS,
      rawBody: true,
      anyQueryParams: true,
      headers: [REQUEST_HEADERS.pathParams],
      responses: [
        {
          status: 200,
          description: 'The upstream response (status, content type and body pass through)',
          headers: RUN_HEADERS,
        },
        { status: 400, description: 'Missing or invalid X-Path-Params' },
        { status: 404, description: 'Unknown permalink' },
        { status: 422, description: 'A template could not be rendered', headers: RUN_HEADERS },
        {
          status: 502,
          description: 'The upstream answered 4xx/5xx, failed, timed out, or broke the outbound rule',
          headers: RUN_HEADERS,
        },
      ],
      handler: async (ctx, input) => {
        const permalink = input.params.permalink;
        const c = (await registry.current()).simple.get(permalink);
        if (!c) return failed(notFound('connector', permalink), ctx.requestId);
        let pathParams: Record<string, string>;
        try {
          pathParams = parsePathParams(input.headers['x-path-params'], c.pathParams, { kind: 'connector', permalink });
        } catch (err) {
          return failed(err as ConnectorFailure, ctx.requestId);
        }
        return outcomeResult(await runner.runSimple(c, clientData(input, pathParams)), ctx.requestId);
      },
    },
    {
      ...base,
      operationId: 'executeCompositeConnector',
      api: 'connectors',
      method: 'post',
      path: '/composite/{permalink}/execute',
      tag: 'Connectors',
      summary: 'Run a composite connector: body = payload, query string = query parameters',
      roles: WRITERS,
      rawBody: true,
      anyQueryParams: true,
      responses: [
        { status: 200, description: "The last step's response (status, content type and body)", headers: RUN_HEADERS },
        { status: 400, description: 'X-Path-Params sent (path parameters are a simple-connector concept)' },
        { status: 404, description: 'Unknown permalink' },
        { status: 422, description: 'A template could not be rendered', headers: RUN_HEADERS },
        {
          status: 502,
          description: 'A step answered 4xx/5xx, failed, timed out, or broke the outbound rule',
          headers: RUN_HEADERS,
        },
      ],
      handler: async (ctx, input) => {
        const permalink = input.params.permalink;
        const c = (await registry.current()).composite.get(permalink);
        if (!c) return failed(notFound('composite connector', permalink), ctx.requestId);
        if (input.headers['x-path-params'] !== undefined) {
          return failed(
            new ConnectorFailure(
              'pathParams',
              'PATH_PARAMS_NOT_SUPPORTED',
              'path parameters are not supported on composite connectors; use step templates',
              { kind: 'connector', permalink },
            ),
            ctx.requestId,
          );
        }
        return outcomeResult(await runner.runComposite(c, clientData(input, {})), ctx.requestId);
      },
    },
  ];
}
