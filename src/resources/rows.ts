// Owns single-row persistence shared by every resource: fetch by id, optimistic checksums, insert,
// update and delete, and a write's attributes as columns — each statement compiled once and run as a
// prepared statement. The answers built from rows are in results.ts.
import { errors } from '../errors';
import { RetryableTransactionError } from '../db/errors';
import { compileOnce, execute, insert, queryFirst, type DbHandle } from '../db/exec';
import { nowIso } from '../db/dialect';
import type { OpContext } from '../api/operation';
import type { MaybePromise } from '../db/maybePromise';
import type { FieldDef } from '../model/fields';
import { itemUri, rowKey, type ResourceDef, type Row } from '../model/resource';

export async function findRow(h: DbHandle, res: ResourceDef, id: number): Promise<Row | undefined> {
  const sql = compileOnce(h, `${res.type}:byId`, (k) => res.baseQuery(k).where(`${res.alias}.id`, 0));
  return queryFirst<Row>(h, sql, [id]);
}

function notFound(res: ResourceDef, publicId: string) {
  return errors.notFound(`No ${res.type} with id ${publicId}`, [
    { message: 'Not found', properties: { type: res.type, id: publicId } },
  ]);
}

/** The row behind a public id, or 404. */
export async function requireRow(ctx: OpContext, res: ResourceDef, publicId: string): Promise<Row> {
  const id = ctx.services.ids.parse(publicId);
  const row = id === undefined ? undefined : await findRow(ctx.db, res, id);
  if (!row) throw notFound(res, publicId);
  return row;
}

/**
 * The stored id behind a public id, or 404 (the same 404 as `requireRow`) — a primary-key probe for
 * callers that need only to know the row exists, such as the parent of a new note. A row inserted
 * earlier in the same transaction (a composite's new activity) is known to exist without a probe,
 * and then the id is returned at once. A malformed id throws at once.
 */
export function requireId(ctx: OpContext, res: ResourceDef, publicId: string): MaybePromise<number> {
  const id = ctx.services.ids.parse(publicId);
  if (id === undefined) throw notFound(res, publicId);
  if (ctx.reservations.insertedHere(res.sequence, id)) return id;
  return rowExists(ctx.db, res.table, id).then((exists) => {
    if (!exists) throw notFound(res, publicId);
    return id;
  });
}

async function rowExists(h: DbHandle, table: string, id: number): Promise<boolean> {
  const sql = compileOnce(h, `${table}:exists`, (k) => k(table).select('id').where('id', 0));
  return (await queryFirst(h, sql, [id])) !== undefined;
}

/** 409 when the client supplied a checksum that is not the current one. */
export function checkChecksum(ctx: OpContext, res: ResourceDef, row: Row, supplied: string | undefined): void {
  if (supplied === undefined) return;
  const current = String(row.checksum);
  if (supplied !== current)
    throw errors.checksumMismatch(itemUri(res, ctx.services.ids, Number(row.id)), current, supplied);
}

/** The columns of one kind of insert, sorted as knex writes them, and the key of its compiled SQL. */
interface InsertShape {
  key: string;
  names: string[];
}

/** Per resource: each column name's bit, and each set of columns (as a bit mask) → its insert shape. */
const insertShapes = new WeakMap<ResourceDef, { bits: Map<string, number>; shapes: Map<number, InsertShape> }>();

/**
 * The shape of an insert of `values`, found without sorting or joining names per row. Column names
 * come from resource definitions, never from clients, so both maps stay small.
 */
function insertShape(res: ResourceDef, values: Row): InsertShape {
  let cache = insertShapes.get(res);
  if (!cache) insertShapes.set(res, (cache = { bits: new Map(), shapes: new Map() }));
  let mask = 0;
  for (const name in values) {
    let bit = cache.bits.get(name);
    if (bit === undefined) {
      if (cache.bits.size >= 32) throw new Error(`${res.type} has more columns than an insert shape can tell apart`);
      cache.bits.set(name, (bit = 1 << cache.bits.size));
    }
    mask |= bit;
  }
  let shape = cache.shapes.get(mask);
  if (!shape) {
    // knex writes insert columns in sorted order; bind in the same order.
    const names = Object.keys(values).sort();
    cache.shapes.set(mask, (shape = { key: `${res.type}:insert:${names.join(',')}`, names }));
  }
  return shape;
}

/**
 * Inserts a row with a reserved id (or queues it, in a transaction that writes behind); returns
 * exactly the columns it writes (a new object). Ready at once when the id was reserved ahead and the
 * write is synchronous or queued (a SQLite composite).
 */
export function insertRow(ctx: OpContext, res: ResourceDef, columns: Row): MaybePromise<Row> {
  const id = ctx.reservations.take(res.sequence);
  if (id !== undefined) return writeRow(ctx, res, columns, id);
  return ctx.reservations.reserveOne(ctx.db, res.sequence).then((reserved) => writeRow(ctx, res, columns, reserved));
}

function writeRow(ctx: OpContext, res: ResourceDef, columns: Row, id: number): MaybePromise<Row> {
  const now = nowIso();
  const values: Row = Object.assign({ id }, columns);
  values.checksum = 0;
  values.create_time = now;
  values.update_time = now;
  const { key, names } = insertShape(res, values);
  const sql = compileOnce(ctx.db, key, (k) => k(res.table).insert(Object.fromEntries(names.map((n) => [n, 0]))));
  const bindings: unknown[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) bindings[i] = values[names[i]];
  const written = insert(ctx.db, sql, bindings);
  if (written instanceof Promise) return written.then(() => inserted(ctx, res, values, id));
  return inserted(ctx, res, values, id);
}

function inserted(ctx: OpContext, res: ResourceDef, values: Row, id: number): Row {
  ctx.reservations.markInserted(res.sequence, id);
  return values;
}

/**
 * A conditional write matched no row: the row changed after it was read. With a checksum from the
 * client that is the client's conflict (409); without one the client asked for last-write-wins, so
 * the whole transaction is tried again on a fresh read (never reached on SQLite, whose writers queue).
 */
async function lostRace(ctx: OpContext, res: ResourceDef, row: Row, supplied: string | undefined): Promise<never> {
  if (supplied === undefined) throw new RetryableTransactionError('STALE_READ');
  const current = await findRow(ctx.db, res, Number(row.id));
  throw errors.checksumMismatch(
    itemUri(res, ctx.services.ids, Number(row.id)),
    String(current?.checksum ?? ''),
    supplied,
  );
}

/**
 * Applies changed columns and bumps the checksum. The WHERE on the checksum that was read makes the
 * check atomic with the write, so two concurrent updates can never both succeed against one checksum.
 * `supplied` is the client's checksum, if it sent one (already compared with `checkChecksum`).
 */
export async function updateRow(
  ctx: OpContext,
  res: ResourceDef,
  row: Row,
  columns: Record<string, unknown>,
  supplied: string | undefined,
): Promise<void> {
  const names = Object.keys(columns);
  const sql = compileOnce(ctx.db, `${res.type}:update:${names.join(',')}`, (k) =>
    k(res.table)
      .update({ ...Object.fromEntries(names.map((n) => [n, 0])), checksum: k.raw('checksum + 1'), update_time: 0 })
      .where({ id: 0, checksum: 0 }),
  );
  const changed = await execute(ctx.db, sql, [...names.map((n) => columns[n]), nowIso(), row.id, row.checksum]);
  if (changed === 0) await lostRace(ctx, res, row, supplied);
}

export async function deleteRow(
  ctx: OpContext,
  res: ResourceDef,
  row: Row,
  supplied: string | undefined,
): Promise<void> {
  const sql = compileOnce(ctx.db, `${res.type}:delete`, (k) => k(res.table).where({ id: 0, checksum: 0 }).delete());
  const changed = await execute(ctx.db, sql, [row.id, row.checksum]);
  if (changed === 0) await lostRace(ctx, res, row, supplied);
  ctx.reservations.markDeleted(res.sequence, Number(row.id));
}

/** A reference attribute of a write, to be checked and turned into its column. */
interface PendingRef {
  key: string;
  name: string;
  ref: NonNullable<FieldDef['ref']>;
  publicId: string;
}

/**
 * Converts the plain attributes of a create or update body to columns: typekeys by code,
 * references by id (a reference to nothing is a 400 naming the attribute). Attributes of kinds a
 * resource handles itself (roles, password) are skipped. Ready at once unless a reference must be
 * looked up.
 */
export function attributeColumns(
  ctx: OpContext,
  res: ResourceDef,
  attributes: Record<string, unknown>,
): MaybePromise<Row> {
  const columns: Row = {};
  let refs: PendingRef[] | undefined;
  for (const name of Object.keys(attributes)) {
    const value = attributes[name];
    const field = res.fields[name];
    if (!field?.column || field.readOnly) continue;
    const key = rowKey(field);
    if (value === null) columns[key] = null;
    else if (field.kind === 'typekey') columns[key] = (value as { code: string }).code;
    else if (field.kind === 'ref')
      (refs ??= []).push({
        key,
        name,
        ref: field.ref as NonNullable<FieldDef['ref']>,
        publicId: (value as { id: string }).id,
      });
    else if (field.kind === 'string' || field.kind === 'text' || field.kind === 'date' || field.kind === 'boolean')
      columns[key] = value;
  }
  return refs ? resolveRefs(ctx, refs, columns) : columns;
}

async function resolveRefs(ctx: OpContext, refs: PendingRef[], columns: Row): Promise<Row> {
  for (const r of refs) columns[r.key] = await resolveRef(ctx, r.name, r.ref, r.publicId);
  return columns;
}

async function resolveRef(
  ctx: OpContext,
  name: string,
  ref: { resourceType: string; table: string },
  publicId: string,
): Promise<number> {
  const id = ctx.services.ids.parse(publicId);
  if (id === undefined || !(await rowExists(ctx.db, ref.table, id))) {
    throw errors.badInput(`${name} refers to ${ref.resourceType} ${publicId}, which does not exist`, [
      { message: 'Unknown reference', properties: { attribute: name, id: publicId } },
    ]);
  }
  return id;
}
