// Owns the connector listings and one-item reads: what a definition shows, never header, auth or secret values.
import { Type } from '@sinclair/typebox';
import { READERS, type Operation } from '../api/operation';
import type { CompiledComposite, CompiledSimple, CompiledStep } from './compile';
import { base, failed, notFound } from './operationAnswers';
import type { ConnectorRegistry } from './registry';

const Listing = Type.Object({
  count: Type.Integer(),
  data: Type.Array(Type.Object({}, { additionalProperties: true })),
});
const Single = Type.Object({ data: Type.Object({}, { additionalProperties: true }) });

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

export function listOperations(registry: ConnectorRegistry): Operation[] {
  return [
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
  ];
}
