// Owns the types of the client's options and of the bodies it sends, typed from the server's own schemas.
// Type-only imports: erased from the compiled client, so it stays free of server code.
import type { CompositeBody, SubRequest, SubSelection } from '../composite/parse';
import type { BatchBody, BatchEntry, BatchSubRequest } from '../batch/schema';
import type { UnknownMode } from '../api/requestOptions';
import type { ActivityAttributes } from '../resources/activities/definition';
import type { NoteAttributes } from '../resources/notes/definition';
import type { UserAttributes } from '../resources/users/definition';

export type Credentials = { username: string; password: string } | { bearer: string };

export interface ClientOptions {
  /** Server origin, e.g. `https://api.example.com` (no `/rest`). */
  baseUrl: string;
  credentials?: Credentials;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Sent with every request. */
  headers?: Record<string, string>;
}

export type QueryParams = Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>;

export interface ExecuteOptions {
  permalink: string;
  /** Sent as JSON unless it is a string (sent as text/plain) or binary. */
  payload?: unknown;
  queryParams?: QueryParams;
  pathParams?: Record<string, string | number>;
}

export type CompositeExecuteOptions = Omit<ExecuteOptions, 'pathParams'>;

/** The composite body, typed from the same schema the server validates it with. */
export type CompositeRequest = CompositeBody;
export type CompositeSubrequest = SubRequest;
export type CompositeSubselection = SubSelection;
export type { ActivityAttributes, NoteAttributes, UserAttributes };

export interface CompositeResponse {
  responses: unknown[];
  selections?: unknown[];
}

/** The batch body and answer, typed from the same schemas the server validates and documents. */
export type BatchRequest = BatchBody;
export type BatchSubrequest = BatchSubRequest;
export interface BatchResponse {
  responses: BatchEntry[];
}
export type { UnknownMode };

/** Request headers that change how a call is handled (SPEC §8). */
export interface HandlingOptions {
  /** GW-DoNotCommit: run and answer as usual, then roll back. */
  dryRun?: boolean;
  /** GW-UnknownPropertyHandling (default reject). */
  unknownProperties?: UnknownMode;
  /** GW-UnknownQueryParamHandling (default reject). */
  unknownQueryParams?: UnknownMode;
}

export interface BatchRunOptions extends HandlingOptions, WriteOptions {
  /** Which API's batch endpoint: `common` (default) or `admin`; subrequest paths are relative to it. */
  api?: 'common' | 'admin';
  /** Which response headers each entry shows: `all` (default), `none`, or these names. */
  includeResponseHeaders?: 'all' | 'none' | readonly string[];
}

/** Options of a write: `idempotencyKey` makes a retry with the same key get the stored answer instead of running again. */
export interface WriteOptions {
  idempotencyKey?: string;
}

/** Sent with `Prefer: respond-async`: resolves to an AsyncCall; `wait` seconds for the answer first. */
export interface AsyncOptions extends WriteOptions {
  async: true;
  wait?: number;
}

export interface CompositeRunOptions extends WriteOptions, HandlingOptions {
  transactionId?: string;
}
