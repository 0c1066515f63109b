// Owns the answer for one item built from its row: the body in the requested selection, GW-Checksum,
// and Location on 201 — for a row read back or one just inserted (rows.ts writes them).
import { errors } from '../errors';
import type { OpContext, OpResult } from '../api/operation';
import type { MaybePromise } from '../db/maybePromise';
import { present, refNameKey, rowKey, type FieldSelection, type ResourceDef, type Row } from '../model/resource';
import { findRow } from './rows';

/** The response for one item: body, `GW-Checksum`, and `Location` on 201. */
export async function itemResult(
  ctx: OpContext,
  res: ResourceDef,
  id: number,
  status: number,
  selection: FieldSelection,
): Promise<OpResult> {
  const row = await findRow(ctx.db, res, id);
  if (!row) throw errors.notFound(`No ${res.type} with id ${ctx.services.ids.format(id)}`);
  return rowResult(ctx, res, row, selection, status);
}

/** The response for a row already in hand. */
export function rowResult(
  ctx: OpContext,
  res: ResourceDef,
  row: Row,
  selection: FieldSelection,
  status = 200,
): OpResult {
  const data = present(res, row, { selection, ids: ctx.services.ids, omitSetAtCommit: ctx.inComposite });
  const headers: Record<string, string> =
    status === 201
      ? { 'GW-Checksum': data.checksum, Location: data.links.self.href }
      : { 'GW-Checksum': data.checksum };
  return { status, body: { data }, headers };
}

/**
 * The 201 for a row just inserted, built from the columns written rather than read back: every
 * column is known, and so is the display name of a reference to the caller. A reference to anyone
 * else needs its name from the database, so then the row is read as a GET would read it. `inserted`
 * is the object `insertRow` returned, and gains the caller's display name.
 */
export function createdResult(
  ctx: OpContext,
  res: ResourceDef,
  inserted: Row,
  selection: FieldSelection,
): MaybePromise<OpResult> {
  for (const ref of refFieldsOf(res)) {
    const value = inserted[ref.key];
    if (value === null || value === undefined) continue;
    if (ctx.caller.id === undefined || Number(value) !== ctx.caller.id)
      return itemResult(ctx, res, Number(inserted.id), 201, selection);
    inserted[ref.nameKey] = ctx.caller.displayName;
  }
  return rowResult(ctx, res, inserted, selection, 201);
}

/** The reference fields of a resource: the row key of the id and of the display name. */
const refFields = new WeakMap<ResourceDef, Array<{ key: string; nameKey: string }>>();

function refFieldsOf(res: ResourceDef): Array<{ key: string; nameKey: string }> {
  let refs = refFields.get(res);
  if (!refs) {
    refs = Object.entries(res.fields)
      .filter(([, field]) => field.kind === 'ref')
      .map(([name, field]) => ({ key: rowKey(field), nameKey: refNameKey(name) }));
    refFields.set(res, refs);
  }
  return refs;
}
