// Owns the JSON Schemas of the composite's answers (SPEC §4) as named components, so a generated client
// gets one type per subresponse kind and a 400 it can tell apart from the plain error body.
import { Type } from '@sinclair/typebox';
import { ErrorBodySchema, named, oneOf } from '../api/schemaComponents';

const Included = named(
  'SubresponseIncluded',
  Type.Object(
    {
      status: Type.Integer({ description: 'The status the subrequest answered, as if sent alone' }),
      headers: Type.Object(
        {},
        { additionalProperties: Type.String(), description: 'Its headers: GW-Checksum, Location' },
      ),
      body: Type.Optional(Type.Unknown({ description: 'Its body (absent after 204)' })),
    },
    {
      additionalProperties: false,
      description: 'A subrequest that ran; a failed selection is reported this way too, with its error body',
    },
  ),
);

const NotIncluded = named(
  'SubresponseNotIncluded',
  Type.Object(
    {
      responseIncluded: Type.Literal(false),
    },
    { additionalProperties: false, description: 'A request sent with includeResponse: false (its vars still work)' },
  ),
);

const RequestError = named(
  'SubresponseRequestError',
  Type.Object(
    {
      requestError: ErrorBodySchema,
    },
    { additionalProperties: false, description: 'The request that failed: its error body, with its own status' },
  ),
);

const Skipped = named(
  'SubresponseSkipped',
  Type.Object(
    {
      skipped: Type.Literal(true),
    },
    { additionalProperties: false, description: 'Not run: an earlier request failed' },
  ),
);

const Subresponse = named(
  'Subresponse',
  oneOf([Included, NotIncluded, RequestError, Skipped], {
    description: 'One entry per request or selection, in order',
  }),
);

export const CompositeResponseSchema = named(
  'CompositeResponse',
  Type.Object(
    {
      responses: Type.Array(Subresponse),
      selections: Type.Optional(Type.Array(Subresponse, { description: 'Present when the request had selections' })),
    },
    { additionalProperties: false, description: 'Every request committed; the selections ran after the commit' },
  ),
);

export const CompositeFailedSchema = named(
  'CompositeRequestFailed',
  Type.Object(
    {
      requestFailed: Type.Literal(true),
      responses: Type.Array(Subresponse, {
        description: 'Entries before the failed request, its requestError, then skipped entries',
      }),
      selections: Type.Array(Subresponse, { description: 'Every selection skipped' }),
    },
    { additionalProperties: false, description: 'A request failed: nothing was committed and no selection ran' },
  ),
);

/** The composite's 400: refused before running (the plain error body) or a request failed (requestFailed). */
export const CompositeBadRequestSchema = named(
  'CompositeBadRequest',
  oneOf([ErrorBodySchema, CompositeFailedSchema], {
    description:
      'Refused before anything ran (the plain error body, naming the subrequest), or a request failed (requestFailed)',
  }),
);
