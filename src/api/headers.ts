// Owns the HTTP headers the API reads and writes beyond the standard ones, defined once: the route table
// names them, validation and handlers read them, and OpenAPI declares them from these definitions.
import type { Operation } from './operation';

export interface HeaderDef {
  name: string;
  description: string;
  /** JSON Schema of the value (a string on the wire). */
  schema: { type: 'string'; minLength?: number; maxLength?: number; pattern?: string; enum?: string[] };
}

/** Request headers an operation may read. */
export const REQUEST_HEADERS = {
  checksum: {
    name: 'GW-Checksum',
    description:
      'The checksum the client last saw; the request is refused with 409 unless it is the current one (optimistic locking)',
    schema: { type: 'string', minLength: 1, maxLength: 64 },
  },
  transactionId: {
    name: 'GW-DBTransaction-ID',
    description:
      'A client-chosen id for this composite; once one has committed with this id, sending it again is refused with 400 (AlreadyExecutedException) and runs nothing',
    schema: { type: 'string', minLength: 1, maxLength: 128 },
  },
  pathParams: {
    name: 'X-Path-Params',
    description: "The connector's path parameters as a JSON object of strings",
    schema: { type: 'string', maxLength: 4000 },
  },
  doNotCommit: {
    name: 'GW-DoNotCommit',
    description: 'Dry run: run everything and answer as usual, then roll back; the answer echoes the header',
    schema: { type: 'string', enum: ['true', 'false'] },
  },
  unknownProperty: {
    name: 'GW-UnknownPropertyHandling',
    description:
      'Body members the schema does not define: refused with 400 (reject, the default), dropped and logged (log), or dropped (ignore)',
    schema: { type: 'string', enum: ['reject', 'log', 'ignore'] },
  },
  unknownQueryParam: {
    name: 'GW-UnknownQueryParamHandling',
    description:
      'Query parameters the operation does not define: refused with 400 (reject, the default), dropped and logged (log), or dropped (ignore)',
    schema: { type: 'string', enum: ['reject', 'log', 'ignore'] },
  },
  idempotencyKey: {
    name: 'Idempotency-Key',
    description:
      'Run once: a retry with this key (same caller, method, path and body) gets the stored answer with Idempotent-Replayed: true. Kept IDEMPOTENCY_TTL_HOURS',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
  prefer: {
    name: 'Prefer',
    description:
      'respond-async: store the request, answer 202 with GW-Async-Location and run it in the background; `respond-async, wait=N`: answer normally if it finishes within N seconds',
    schema: { type: 'string', maxLength: 200 },
  },
} satisfies Record<string, HeaderDef>;

/**
 * Request headers that apply to every operation a predicate picks, declared here once so an operation
 * added anywhere in the route table documents them without naming them (e.g. a header every write reads).
 */
export const SHARED_REQUEST_HEADERS: ReadonlyArray<{ header: HeaderDef; appliesTo: (op: Operation) => boolean }> = [
  { header: REQUEST_HEADERS.checksum, appliesTo: (op) => op.checksumHeader === true },
  { header: REQUEST_HEADERS.doNotCommit, appliesTo: (op) => op.transactional || op.dryRun === 'handler' },
  { header: REQUEST_HEADERS.unknownProperty, appliesTo: (op) => op.body !== undefined },
  { header: REQUEST_HEADERS.unknownQueryParam, appliesTo: (op) => !op.anyQueryParams },
  { header: REQUEST_HEADERS.idempotencyKey, appliesTo: (op) => op.method !== 'get' },
  { header: REQUEST_HEADERS.prefer, appliesTo: (op) => op.method !== 'get' },
];

/** Response headers, named by `OpResponse.headers`. */
export const RESPONSE_HEADERS = {
  'GW-Checksum': {
    name: 'GW-Checksum',
    description: "The resource's current checksum (send it back to update or delete it)",
    schema: { type: 'string' },
  },
  Location: { name: 'Location', description: 'The new resource, relative to /rest', schema: { type: 'string' } },
  'Server-Timing': {
    name: 'Server-Timing',
    description:
      'Where the time went: an entry per stage and per subrequest or step (`req.<i>`, `sel.<i>`), and `total`; durations in ms',
    schema: { type: 'string' },
  },
  'GW-Async-Location': {
    name: 'GW-Async-Location',
    description: 'The record of an accepted asynchronous request, relative to /rest: /async/v1/requests/{id}',
    schema: { type: 'string' },
  },
  'X-Connector-Timing': {
    name: 'X-Connector-Timing',
    description: "A connector run's timing as JSON: total_ms and the steps",
    schema: { type: 'string' },
  },
} satisfies Record<string, HeaderDef>;

export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;
