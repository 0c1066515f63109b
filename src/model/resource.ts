// Owns the definition of a resource type and what is derived from it alone: its schemas, the
// row → payload presentation, field selection, and the write → column conversion.
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { Knex } from 'knex';
import { errors } from '../errors';
import type { KnexHandle } from '../db/exec';
import { toApiValue, type FieldDef } from './fields';
import type { IdCodec } from './publicIds';

export interface ResourceDef {
  /** Type name, as in references (`Activity`). */
  type: string;
  table: string;
  /** Alias of `table` in `baseQuery`. */
  alias: string;
  sequence: string;
  /** Where one item lives, relative to /rest: `/common/v1/activities`. */
  uriPrefix: string;
  fields: Record<string, FieldDef>;
  /** SELECT of every column the presentation needs (the table plus reference display names). */
  baseQuery(h: KnexHandle): Knex.QueryBuilder;
  /** Methods on the item itself, and extra links (actions, children) for one item. */
  selfMethods: string[];
  extraLinks?(uri: string): Record<string, { href: string; methods: string[] }>;
}

export type Row = Record<string, unknown>;

export interface ResourceData {
  attributes: Record<string, unknown>;
  checksum: string;
  links: Record<string, { href: string; methods: string[] }>;
}

/** Which attributes a response carries: the default set, every attribute, or a list. */
export type FieldSelection = { mode: 'default' } | { mode: 'all' } | { mode: 'list'; names: Set<string> };

export function rowKey(field: FieldDef): string {
  const column = field.column as string;
  const dot = column.indexOf('.');
  return dot < 0 ? column : column.slice(dot + 1);
}

export function refNameKey(name: string): string {
  return `${name}__name`;
}

const DEFAULT_SELECTION: FieldSelection = { mode: 'default' };
const ALL_SELECTION: FieldSelection = { mode: 'all' };

/** Parses `fields=…`; an unknown attribute is a 400 naming it. */
export function parseFieldSelection(res: ResourceDef, fields: string | undefined): FieldSelection {
  if (fields === undefined || fields === '') return DEFAULT_SELECTION;
  const names = fields
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.includes('*all')) return ALL_SELECTION;
  if (names.includes('*default')) return DEFAULT_SELECTION;
  for (const name of names) {
    const field = res.fields[name];
    if (!field || field.writeOnly) {
      throw errors.badInput(`Unknown field "${name}" in fields for ${res.type}`, [
        { message: 'Unknown field', properties: { parameter: 'fields', field: name } },
      ]);
    }
  }
  return { mode: 'list', names: new Set(names) };
}

function selected(selection: FieldSelection, name: string, field: FieldDef): boolean {
  if (field.writeOnly) return false;
  if (name === 'id') return true;
  if (selection.mode === 'all') return true;
  if (selection.mode === 'default') return field.inDefault !== false;
  return selection.names.has(name);
}

export interface PresentOptions {
  selection: FieldSelection;
  ids: IdCodec;
  /** Leave out fields set at commit (composite `requests` subresponses). */
  omitSetAtCommit: boolean;
}

export function itemUri(res: ResourceDef, ids: IdCodec, id: number): string {
  return publicItemUri(res, ids.format(id));
}

/** An item's uri from its public id, when that is at hand already. */
export function publicItemUri(res: ResourceDef, publicId: string): string {
  return `${res.uriPrefix}/${publicId}`;
}

/** One attribute a presentation writes, with the row keys it reads worked out once. */
interface PresentedField {
  name: string;
  field: FieldDef;
  key: string;
  refNameKey?: string;
}

function presentedFields(res: ResourceDef, selection: FieldSelection, omitSetAtCommit: boolean): PresentedField[] {
  const out: PresentedField[] = [];
  for (const [name, field] of Object.entries(res.fields)) {
    if (!selected(selection, name, field) || (omitSetAtCommit && field.setAtCommit)) continue;
    out.push({
      name,
      field,
      key: field.kind === 'id' ? 'id' : rowKey(field),
      refNameKey: field.kind === 'ref' ? refNameKey(name) : undefined,
    });
  }
  return out;
}

/** The default and `*all` presentations of each resource, worked out on first use (a list selection is not cached). */
const presentations = new WeakMap<ResourceDef, Map<string, PresentedField[]>>();

function presentationOf(res: ResourceDef, selection: FieldSelection, omitSetAtCommit: boolean): PresentedField[] {
  if (selection.mode === 'list') return presentedFields(res, selection, omitSetAtCommit);
  let byMode = presentations.get(res);
  if (!byMode) presentations.set(res, (byMode = new Map()));
  // Constant keys: nothing is built per call on the hot path.
  const key =
    selection.mode === 'all' ? (omitSetAtCommit ? 'all:omit' : 'all') : omitSetAtCommit ? 'default:omit' : 'default';
  let fields = byMode.get(key);
  if (!fields) byMode.set(key, (fields = presentedFields(res, selection, omitSetAtCommit)));
  return fields;
}

/** Turns a row of `baseQuery` into the payload's data object. */
export function present(res: ResourceDef, row: Row, opts: PresentOptions): ResourceData {
  const attributes: Record<string, unknown> = {};
  const publicId = opts.ids.format(Number(row.id));
  for (const p of presentationOf(res, opts.selection, opts.omitSetAtCommit)) {
    const value =
      p.field.kind === 'id'
        ? publicId
        : toApiValue(p.field, row[p.key], opts.ids, p.refNameKey === undefined ? undefined : row[p.refNameKey]);
    if (value !== undefined) attributes[p.name] = value;
  }
  const uri = publicItemUri(res, publicId);
  const links: ResourceData['links'] = { self: { href: uri, methods: res.selfMethods } };
  if (res.extraLinks) Object.assign(links, res.extraLinks(uri));
  return { attributes, checksum: String(row.checksum), links };
}

/** The attributes object a client may send on create (`required` enforced) or update (all optional). */
export function attributesSchema(res: ResourceDef, mode: 'create' | 'update'): TObject {
  const props: Record<string, TSchema> = {};
  for (const [name, field] of Object.entries(res.fields)) {
    if (!field.writeSchema || field.readOnly) continue;
    const value = { ...field.writeSchema, description: field.description };
    const schema =
      field.nullable && !field.required ? Type.Union([value, Type.Null()], { description: field.description }) : value;
    props[name] = mode === 'create' && field.required ? schema : Type.Optional(schema);
  }
  return Type.Object(props, { additionalProperties: false });
}

/** The request envelope `{"data": {"attributes": {…}, "checksum"?: "…"}}`. */
export function envelopeSchema(attributes: TObject, name: string, extra: Record<string, TSchema> = {}): TObject {
  return Type.Object(
    {
      data: Type.Object(
        { attributes, checksum: Type.Optional(Type.String({ maxLength: 32 })) },
        { additionalProperties: false },
      ),
      ...extra,
    },
    { additionalProperties: false, title: name },
  );
}

/** The response schema of one item: attributes as the server returns them. */
export function readSchema(res: ResourceDef): TObject {
  const props: Record<string, TSchema> = {};
  for (const [name, field] of Object.entries(res.fields)) {
    if (field.readSchema && !field.writeOnly)
      props[name] = Type.Optional({ ...field.readSchema, description: field.description });
  }
  const link = Type.Object({ href: Type.String(), methods: Type.Array(Type.String()) });
  return Type.Object({
    attributes: Type.Object(props),
    checksum: Type.String(),
    links: Type.Record(Type.String(), link),
  });
}

export function singleResponseSchema(res: ResourceDef, extra: Record<string, TSchema> = {}): TObject {
  return Type.Object({ data: readSchema(res), ...extra });
}

export function collectionResponseSchema(res: ResourceDef): TObject {
  const href = Type.Object({ href: Type.String(), methods: Type.Array(Type.String()) });
  return Type.Object({
    count: Type.Integer(),
    total: Type.Optional(Type.Integer()),
    data: Type.Array(readSchema(res)),
    links: Type.Object({ self: href, first: href, next: Type.Optional(href), prev: Type.Optional(href) }),
  });
}
