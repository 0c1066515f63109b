// Owns the batch request and response bodies (SPEC §8) as TypeBox schemas: one definition for
// validation, TypeScript types and the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox';

/** An HTTP header field name (RFC 9110 token). */
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const BatchHeader = Type.Object(
  { name: Type.String({ pattern: HEADER_NAME, maxLength: 100 }), value: Type.String({ maxLength: 8192 }) },
  { additionalProperties: false },
);

export const BatchSubRequest = Type.Object(
  {
    method: Type.String({ maxLength: 10, description: 'get, post, patch or delete (any case)' }),
    path: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'Path relative to the API: /activities, not /common/v1/activities',
    }),
    query: Type.Optional(Type.String({ maxLength: 8192, description: 'Query string without ?' })),
    body: Type.Optional(Type.Unknown({ description: 'The request body, as sent alone' })),
    headers: Type.Optional(
      Type.Array(BatchHeader, { maxItems: 50, description: 'Override the headers inherited from the batch request' }),
    ),
    onFail: Type.Optional(
      Type.Union([Type.Literal('continue'), Type.Literal('abort')], {
        description: 'abort: when this one fails, skip the rest',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The batch body. The array is bounded far above BATCH_MAX_SUBREQUESTS only as a parser guard; the
 * configured limit is checked with a clearer message.
 */
export const BatchBody = Type.Object(
  { requests: Type.Array(BatchSubRequest, { minItems: 1, maxItems: 10000 }) },
  { additionalProperties: false, title: 'BatchRequest' },
);

export const BatchEntry = Type.Union([
  Type.Object({
    status: Type.Integer(),
    headers: Type.Optional(Type.Array(BatchHeader)),
    body: Type.Optional(Type.Unknown()),
  }),
  Type.Object({ skipped: Type.Literal(true) }),
]);

export const BatchResponse = Type.Object({ responses: Type.Array(BatchEntry) }, { title: 'BatchResponse' });

export type BatchBody = Static<typeof BatchBody>;
export type BatchSubRequest = Static<typeof BatchSubRequest>;
export type BatchHeader = Static<typeof BatchHeader>;
export type BatchEntry = Static<typeof BatchEntry>;
