// Owns the operations every resource has for reading and creating (list, get, create), built from its
// definition plus small hooks for what is particular to it — so no resource repeats the CRUD plumbing
// (itemOps.ts has update, actions and delete).
import type { Knex } from 'knex';
import type { TObject, TSchema } from '@sinclair/typebox';
import type { ApiName, Operation, OpContext, OpInput, OpResponse, OpResult, Role } from '../api/operation';
import type { MaybePromise } from '../db/maybePromise';
import { COLLECTION_PARAMS, SINGLE_PARAMS, type CollectionQuery } from '../query/params';
import { listCollection } from '../query/collection';
import {
  attributesSchema,
  collectionResponseSchema,
  envelopeSchema,
  parseFieldSelection,
  singleResponseSchema,
  type FieldSelection,
  type ResourceDef,
  type Row,
} from '../model/resource';
import { inclusionParts, withIncluded, type IncludableChild, type Included } from './inclusion';
import { attributeColumns, insertRow, requireRow } from './rows';
import { createdResult, rowResult } from './results';

export interface Common {
  res: ResourceDef;
  api: ApiName;
  tag: string;
  operationId: string;
  summary: string;
  roles: readonly Role[];
}

/** A one-item answer: it carries the item's GW-Checksum, and a 201 its Location. (401/403/404… are derived in OpenAPI.) */
export function itemResponse(
  res: ResourceDef,
  status: 200 | 201,
  description: string,
  extra?: Record<string, TSchema>,
): OpResponse {
  return {
    status,
    description,
    schema: singleResponseSchema(res, extra),
    headers: status === 201 ? ['GW-Checksum', 'Location'] : ['GW-Checksum'],
  };
}

export interface Envelope {
  data: { attributes: Record<string, unknown>; checksum?: string };
  included?: Included;
}

/** The `fields` selection of a single-item call; a bad one is a 400 before anything is written. */
export function selectionOf(res: ResourceDef, input: OpInput): FieldSelection {
  return parseFieldSelection(res, input.query.fields as string | undefined);
}

export function listOp(
  o: Common & { path: string; scope?: (ctx: OpContext, input: OpInput) => Promise<(qb: Knex.QueryBuilder) => void> },
): Operation {
  return {
    ...o,
    method: 'get',
    path: o.path,
    allowForComposite: true,
    queryParams: COLLECTION_PARAMS,
    transactional: false,
    responses: [{ status: 200, description: `A page of ${o.res.type}`, schema: collectionResponseSchema(o.res) }],
    async handler(ctx, input) {
      const scope = o.scope ? await o.scope(ctx, input) : undefined;
      const linkPath = `/${o.api}/v1${o.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(input.params[p]).replace(/%3A/gi, ':'))}`;
      const body = await listCollection(ctx.db, o.res, input.query as CollectionQuery, {
        ids: ctx.services.ids,
        path: linkPath,
        scope,
      });
      return { status: 200, body };
    },
  };
}

export function getOp(o: Common & { path: string; idParam: string }): Operation {
  return {
    ...o,
    method: 'get',
    allowForComposite: true,
    queryParams: SINGLE_PARAMS,
    transactional: false,
    responses: [itemResponse(o.res, 200, `One ${o.res.type}`)],
    async handler(ctx, input) {
      const row = await requireRow(ctx, o.res, input.params[o.idParam]);
      return rowResult(ctx, o.res, row, selectionOf(o.res, input));
    },
  };
}

/** What a resource's create is built from: its definition plus the hooks for what is particular to it. */
type CreateOptions = Common & {
  path: string;
  /** Adds the columns particular to this resource (parent ids, the caller as author, hashed passwords…). */
  columns?: (
    ctx: OpContext,
    attributes: Record<string, unknown>,
    input: OpInput,
  ) => MaybePromise<Record<string, unknown>>;
  /** Column values used when the client does not send the attribute. */
  defaults?: Record<string, unknown>;
  body?: TObject;
  /** Children the body may carry in `included`, written in the same transaction. */
  includes?: readonly IncludableChild[];
};

export function createOp(o: CreateOptions): Operation {
  const inclusion = inclusionParts(o.includes, 'post');
  return {
    ...o,
    method: 'post',
    allowForComposite: true,
    queryParams: [{ ...SINGLE_PARAMS[0] }],
    transactional: true,
    creates: o.res.sequence,
    includedTypes: inclusion.types,
    body: o.body ?? envelopeSchema(attributesSchema(o.res, 'create'), `${o.res.type}Create`, inclusion.request),
    responses: [itemResponse(o.res, 201, `The new ${o.res.type}`, inclusion.response)],
    // Nothing here waits unless it must (a reference to look up, a password to hash, PostgreSQL):
    // on SQLite a composite's creates run from first to last without a turn of the event loop, and
    // without a closure per step (each step is a named function, continued by `then` only when it waits).
    handler(ctx, input) {
      const step: CreateStep = { o, ctx, input, selection: selectionOf(o.res, input) };
      const fromAttributes = attributeColumns(ctx, o.res, (input.body as Envelope).data.attributes);
      if (fromAttributes instanceof Promise) return fromAttributes.then((c) => withOwnColumns(step, c));
      return withOwnColumns(step, fromAttributes);
    },
  };
}

/** One create under way: what its later steps need. */
interface CreateStep {
  o: CreateOptions;
  ctx: OpContext;
  input: OpInput;
  selection: FieldSelection;
}

function withOwnColumns(step: CreateStep, fromAttributes: Row): MaybePromise<OpResult> {
  const own = step.o.columns?.(step.ctx, (step.input.body as Envelope).data.attributes, step.input);
  if (own instanceof Promise) return own.then((c) => insertCreated(step, fromAttributes, c));
  return insertCreated(step, fromAttributes, own);
}

function insertCreated(
  step: CreateStep,
  fromAttributes: Row,
  own: Record<string, unknown> | undefined,
): MaybePromise<OpResult> {
  // Defaults, then the attributes sent, then the resource's own columns: later ones win. Object.assign
  // rather than spread: this runs once per create in a composite's hot path (bench/README.md).
  const columns: Row = Object.assign({}, step.o.defaults, fromAttributes, own);
  const inserted = insertRow(step.ctx, step.o.res, columns);
  if (inserted instanceof Promise) return inserted.then((row) => answerCreated(step, row));
  return answerCreated(step, inserted);
}

function answerCreated(step: CreateStep, inserted: Row): MaybePromise<OpResult> {
  const { o, ctx, selection } = step;
  const created = createdResult(ctx, o.res, inserted, selection);
  const included = (step.input.body as Envelope).included;
  return included && o.includes ? withIncluded(ctx, o.includes, included, Number(inserted.id), created) : created;
}
