// Owns the parse stage: the JSON Schema of a composite request body (ajv validates it like any other
// body, so unknown members, wrong types and over-long arrays are refused before planning).
import { Type, type Static } from '@sinclair/typebox';
import { named } from '../api/schemaComponents';

const Parameters = Type.Record(
  Type.String({ maxLength: 64 }),
  Type.Union([
    Type.String({ maxLength: 2000 }),
    Type.Number(),
    Type.Boolean(),
    Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 20 }),
  ]),
  { maxProperties: 20, description: 'Query parameters, e.g. {"fields": "id,subject"}' },
);

/**
 * A subrequest's method: lower or upper case, as HTTP clients write it. An enum rather than a
 * case-insensitive pattern, so a generated client types it as a union of literals; mixed case ("Post")
 * is refused here, naming the member, before anything runs.
 */
function methodSchema(methods: string[], description: string) {
  const spelled = [...methods, ...methods.map((m) => m.toUpperCase())];
  return Type.Unsafe<string>({ type: 'string', enum: spelled, description: `${spelled.join(', ')}. ${description}` });
}

const Var = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', maxLength: 64, description: 'An identifier' }),
    path: Type.String({
      minLength: 1,
      maxLength: 500,
      description: "JSONPath into this subrequest's response body, e.g. $.data.attributes.id",
    }),
  },
  { additionalProperties: false },
);

export const SubRequest = named(
  'CompositeSubrequest',
  Type.Object(
    {
      method: methodSchema(['post', 'patch', 'delete'], 'Only writes run as requests'),
      uri: Type.String({ minLength: 1, maxLength: 2000, description: 'Path relative to /rest, may hold ${var}' }),
      body: Type.Optional(Type.Unknown()),
      vars: Type.Optional(Type.Array(Var, { maxItems: 20 })),
      parameters: Type.Optional(Parameters),
      includeResponse: Type.Optional(Type.Boolean()),
      headers: Type.Optional(
        Type.Object(
          { 'GW-Checksum': Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
          {
            additionalProperties: false,
            description: 'Per-subrequest headers; only GW-Checksum (for DELETE and actions), which may hold ${var}',
          },
        ),
      ),
    },
    { additionalProperties: false, description: "A write: runs inside the composite's transaction" },
  ),
);

export const SubSelection = named(
  'CompositeSelection',
  Type.Object(
    {
      method: Type.Optional(methodSchema(['get'], 'Selections only read; the default')),
      uri: Type.String({ minLength: 1, maxLength: 2000 }),
      parameters: Type.Optional(Parameters),
    },
    { additionalProperties: false, description: 'A GET: runs after the commit' },
  ),
);

/** The example the API reference shows: an activity, a note on it through a var, and two selections (SPEC §4). */
const EXAMPLE = {
  requests: [
    {
      method: 'post',
      uri: '/common/v1/activities',
      body: { data: { attributes: { subject: 'Call the insured' } } },
      vars: [{ name: 'activityId', path: '$.data.attributes.id' }],
      parameters: { fields: 'id,subject' },
    },
    {
      method: 'post',
      uri: '/common/v1/activities/${activityId}/notes',
      body: { data: { attributes: { body: 'First call made' } } },
      includeResponse: false,
    },
  ],
  selections: [
    { uri: '/common/v1/activities/${activityId}' },
    {
      uri: '/common/v1/activities',
      parameters: {
        filter: ['priority:in:high,urgent'],
        sort: ['-dueDate'],
        pageSize: 5,
        includeTotal: true,
        fields: 'subject,dueDate',
      },
    },
  ],
};

/**
 * The composite body. Arrays are bounded far above COMPOSITE_MAX_SUBREQUESTS only as a parser
 * guard; the configured limit is checked by the planner with a clearer message.
 */
export const CompositeBody = named(
  'CompositeRequest',
  Type.Object(
    {
      requests: Type.Optional(Type.Array(SubRequest, { maxItems: 10000 })),
      selections: Type.Optional(Type.Array(SubSelection, { maxItems: 10000 })),
    },
    { additionalProperties: false, minProperties: 1, examples: [EXAMPLE] },
  ),
);

export type SubRequest = Static<typeof SubRequest>;
export type SubSelection = Static<typeof SubSelection>;
export type CompositeBody = Static<typeof CompositeBody>;
