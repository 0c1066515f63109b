// Owns the shape of one API operation in the route table: everything routing, validation,
// authorisation, the composite dispatcher and OpenAPI need to know about it.
import type { TSchema } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { DbHandle } from '../db/exec';
import type { IdReservations } from '../db/sequences';
import type { MaybePromise } from '../db/maybePromise';
import type { UnknownElements } from './requestOptions';
import type { IdCodec } from '../model/publicIds';
import type { HeaderDef, ResponseHeaderName } from './headers';
import type { QueryParamDef } from '../query/params';

export type Role = 'admin' | 'user' | 'reader';
export const ROLES: readonly Role[] = ['admin', 'user', 'reader'];
export type ApiName = 'common' | 'admin' | 'composite' | 'connectors' | 'async';
export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export const READERS: readonly Role[] = ['admin', 'user', 'reader'];
export const WRITERS: readonly Role[] = ['admin', 'user'];
export const ADMINS: readonly Role[] = ['admin'];

/** The authenticated caller. `id` is absent for a JWT subject that has no row in the users table. */
export interface Caller {
  id: number | undefined;
  username: string;
  displayName: string;
  roles: Role[];
}

export interface OpInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The request body exactly as received, for operations with `rawBody`. */
  rawBody?: Buffer;
}

/**
 * Long-lived things a handler may use; one per app. The pool is not among them: a handler queries
 * through `OpContext.db`, so it cannot write outside the transaction it runs in.
 */
export interface Services {
  config: Config;
  ids: IdCodec;
  logger: Logger;
}

/** What runs operations (runAlone, the composite, batch, durable requests) holds: the services and the pool it opens transactions on. */
export interface Runtime {
  services: Services;
  pool: Knex;
}

export interface OpContext {
  /** The handle to use for every query: the composite's transaction, a request's transaction, or the pool. */
  db: DbHandle;
  caller: Caller;
  services: Services;
  reservations: IdReservations;
  /** True inside a composite's `requests`: fields set at commit are left out of the response. */
  inComposite: boolean;
  requestId: string;
  /** GW-DoNotCommit: an operation that honours it itself (composite, batch) rolls its work back. */
  dryRun?: boolean;
  /** How unknown body members and query parameters are treated (default: refused). */
  unknown?: UnknownElements;
  /**
   * For an operation that opens its own transaction (a composite, flagged `commitHooks`): run this
   * first inside it, before its work (an Idempotency-Key's check).
   */
  atBegin?: (trx: DbHandle) => Promise<void>;
  /**
   * For an operation that opens its own transaction (a composite, flagged `commitHooks`): run this inside it, after its
   * work succeeded and before the commit, so the stored answer commits with the writes or not at all.
   */
  beforeCommit?: (trx: DbHandle, result: OpResult) => Promise<void>;
}

export interface OpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A body that is not JSON (connector pass-through). */
  raw?: { contentType: string; body: Buffer | string };
  /** What a replay of this answer needs beyond it (a composite's variables); never sent. */
  replayState?: unknown;
}

/** An answer as stored for replay: `partial` when parts of it are made again when it is read. */
export interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  raw?: { contentType: string; base64: string };
  partial?: boolean;
}

export interface OpResponse {
  status: number;
  description: string;
  schema?: TSchema;
  /** Response headers it carries (declared in OpenAPI from RESPONSE_HEADERS). */
  headers?: readonly ResponseHeaderName[];
}

export interface Operation {
  operationId: string;
  api: ApiName;
  method: HttpMethod;
  /** Path inside the API, OpenAPI style: `/activities/{activityId}/notes`. */
  path: string;
  summary: string;
  /** What it does, for OpenAPI; without one the document says it from the summary, roles and composite flag. */
  description?: string;
  tag: string;
  roles: readonly Role[];
  allowForComposite: boolean;
  queryParams: readonly QueryParamDef[];
  body?: TSchema;
  /** Hand the handler the raw body instead of parsed JSON (any content type). */
  rawBody?: boolean;
  /** Accept query parameters beyond `queryParams`, passed to the handler as text (connector execution). */
  anyQueryParams?: boolean;
  responses: readonly OpResponse[];
  /** Writes run in a transaction of their own when called directly. */
  transactional: boolean;
  /**
   * Not `transactional`, but opens one transaction itself and runs `OpContext.atBegin` and
   * `beforeCommit` in it whenever it writes (a composite): an Idempotency-Key answer commits there.
   */
  commitHooks?: boolean;
  /** Sequence of the resource this operation creates; composites reserve such ids before their transaction. */
  creates?: string;
  /**
   * How an operation that is not `transactional` honours GW-DoNotCommit: `readOnly` (it changes
   * nothing) or `handler` (it rolls back its own work, reading `OpContext.dryRun`). GETs are readOnly;
   * any other such operation refuses a dry run with 400.
   */
  dryRun?: 'readOnly' | 'handler';
  /** Child types its body may carry in `included` (request inclusion, which a composite refuses). */
  includedTypes?: readonly string[];
  /** Takes the optimistic-lock checksum from the `GW-Checksum` request header. */
  checksumHeader?: boolean;
  /** Request headers the handler reads, beyond those SHARED_REQUEST_HEADERS declares (src/api/headers.ts). */
  headers?: readonly HeaderDef[];
  /**
   * Checks that need no data, beyond the body schema (a composite's plan): run before an
   * asynchronous call is accepted, so a malformed one is refused at once.
   */
  check?(services: Services, input: OpInput, unknown?: UnknownElements): void;
  /**
   * Answers a replay of a stored answer (Idempotency-Key) when it is more than the stored answer:
   * a composite runs its selections again against current data.
   */
  replay?(ctx: OpContext, input: OpInput, stored: StoredAnswer, replayState: unknown): Promise<OpResult>;
  /** Answers at once when nothing had to wait (a SQLite composite's writes), else a promise. */
  handler(ctx: OpContext, input: OpInput): MaybePromise<OpResult>;
}
