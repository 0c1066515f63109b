// Owns the operations on one existing item — update (PATCH), an action (POST …/{id}/<action>) and
// delete — which all read the row first and check the client's GW-Checksum against it (optimistic locking).
import type { Operation, OpContext, OpInput, OpResponse } from '../api/operation';
import type { QueryParamDef } from '../query/params';
import type { MaybePromise } from '../db/maybePromise';
import { SINGLE_PARAMS } from '../query/params';
import { errors } from '../errors';
import { attributesSchema, envelopeSchema, type Row } from '../model/resource';
import { inclusionParts, withIncluded, type IncludableChild } from './inclusion';
import { attributeColumns, checkChecksum, deleteRow, requireRow, updateRow } from './rows';
import { itemResult } from './results';
import { itemResponse, selectionOf, type Common, type Envelope } from './standardOps';
import type { TObject } from '@sinclair/typebox';

export function patchOp(
  o: Common & {
    path: string;
    idParam: string;
    columns?: (ctx: OpContext, attributes: Record<string, unknown>, row: Row) => MaybePromise<Record<string, unknown>>;
    /** Children the body may carry in `included` (new ones, or changes to the root's own). */
    includes?: readonly IncludableChild[];
  },
): Operation {
  const inclusion = inclusionParts(o.includes, 'patch');
  return {
    // The checksum may come in the body or, like DELETE and the actions, in the GW-Checksum header.
    ...o,
    method: 'patch',
    allowForComposite: true,
    queryParams: SINGLE_PARAMS,
    transactional: true,
    checksumHeader: true,
    includedTypes: inclusion.types,
    body: envelopeSchema(attributesSchema(o.res, 'update'), `${o.res.type}Update`, inclusion.request),
    responses: [itemResponse(o.res, 200, `The updated ${o.res.type}`, inclusion.response)],
    async handler(ctx, input) {
      const selection = selectionOf(o.res, input);
      const row = await requireRow(ctx, o.res, input.params[o.idParam]);
      const {
        data: { attributes, checksum },
        included,
      } = input.body as Envelope;
      const supplied = checksum ?? input.headers['gw-checksum'];
      checkChecksum(ctx, o.res, row, supplied);
      const columns = {
        ...(await attributeColumns(ctx, o.res, attributes)),
        ...(o.columns ? await o.columns(ctx, attributes, row) : {}),
      };
      const withChildren = included !== undefined && o.includes !== undefined;
      // A PATCH that only writes children leaves the root as it is.
      if (Object.keys(columns).length === 0 && !withChildren) throw errors.badInput('The update changes no attribute');
      if (Object.keys(columns).length > 0) await updateRow(ctx, o.res, row, columns, supplied);
      const updated = itemResult(ctx, o.res, Number(row.id), 200, selection);
      return withChildren ? withIncluded(ctx, o.includes ?? [], included, Number(row.id), updated) : updated;
    },
  };
}

/**
 * An action on one item (POST …/{id}/<action>), the same sequence as a PATCH: read the row, check the
 * checksum (from the body, when the action has one, or GW-Checksum), let `change` refuse or name the
 * columns it writes, update, and answer with the item.
 */
export function actionOp(
  o: Common & {
    path: string;
    idParam: string;
    body?: TObject;
    responses: readonly OpResponse[];
    /** The columns the action writes; throws when the row's state does not allow it. */
    change: (ctx: OpContext, row: Row, input: OpInput) => MaybePromise<Record<string, unknown>>;
  },
): Operation {
  return {
    ...o,
    method: 'post',
    allowForComposite: true,
    queryParams: SINGLE_PARAMS,
    transactional: true,
    checksumHeader: true,
    async handler(ctx, input) {
      const selection = selectionOf(o.res, input);
      const row = await requireRow(ctx, o.res, input.params[o.idParam]);
      const supplied = (o.body ? (input.body as Envelope).data.checksum : undefined) ?? input.headers['gw-checksum'];
      checkChecksum(ctx, o.res, row, supplied);
      await updateRow(ctx, o.res, row, await o.change(ctx, row, input), supplied);
      return itemResult(ctx, o.res, Number(row.id), 200, selection);
    },
  };
}

export function deleteOp(o: Common & { path: string; idParam: string }): Operation {
  return {
    ...o,
    method: 'delete',
    allowForComposite: true,
    queryParams: [] as QueryParamDef[],
    transactional: true,
    checksumHeader: true,
    responses: [
      { status: 204, description: 'Deleted' },
      { status: 409, description: 'Checksum mismatch or still referenced' },
    ],
    async handler(ctx, input) {
      const row = await requireRow(ctx, o.res, input.params[o.idParam]);
      const supplied = input.headers['gw-checksum'];
      checkChecksum(ctx, o.res, row, supplied);
      await deleteRow(ctx, o.res, row, supplied);
      return { status: 204 };
    },
  };
}
