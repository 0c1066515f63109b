// Owns the field vocabulary a resource is defined with: each field knows its JSON Schema (for ajv and
// OpenAPI), its column, how it filters and sorts, and how a row value becomes an API value.
import {
  Type,
  type Static,
  type TBoolean,
  type TNever,
  type TObject,
  type TString,
  type TSchema,
} from '@sinclair/typebox';
import type { IdCodec } from './publicIds';

export type FieldKind =
  'id' | 'string' | 'text' | 'date' | 'datetime' | 'boolean' | 'typekey' | 'ref' | 'roles' | 'relatedTo' | 'password';

/** `R` is the schema of the value the server returns; it gives the resource its TypeScript type. */
export interface FieldDef<R extends TSchema = TSchema> {
  kind: FieldKind;
  /** SQL column expression in the resource's base query (e.g. `a.subject`). Absent for write-only fields. */
  column?: string;
  /** Schema of the value a client sends. Absent for read-only fields. */
  writeSchema?: TSchema;
  /** Schema of the value the server returns. Absent for write-only fields. */
  readSchema?: R;
  required?: boolean;
  /** A client may send `null` to clear it (its column is nullable). */
  nullable?: boolean;
  readOnly?: boolean;
  writeOnly?: boolean;
  filterable?: boolean;
  sortable?: boolean;
  /** In the default field set (returned when `fields` is not given). */
  inDefault?: boolean;
  /** Set at commit; left out of composite `requests` subresponses. */
  setAtCommit?: boolean;
  typekey?: { typeName: string; codes: Record<string, string> };
  ref?: { resourceType: string; uriPrefix: string; table: string };
  description: string;
}

type TTypekey = TObject<{ code: TString; name: TString }>;
type TRef = TObject<{ id: TString; displayName: TString; type: TString; uri: TString }>;

/** The attributes a resource returns, as a TypeScript type derived from its field definitions. */
export type AttributesOf<F extends Record<string, FieldDef<TSchema>>> = {
  [K in keyof F as F[K] extends WriteOnlyField ? never : K]?: F[K] extends FieldDef<infer R> ? Static<R> : never;
};

/** A write-only field (a password): never returned, so its attribute type is `never`. */
export type WriteOnlyField = FieldDef<TNever>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const ID_PATTERN = '^[a-z][a-z0-9_]{0,15}:[1-9][0-9]{0,15}$';

export const f = {
  id: (): FieldDef<TString> => ({
    kind: 'id',
    column: undefined,
    readSchema: Type.String({ description: 'Public id' }),
    readOnly: true,
    filterable: true,
    sortable: true,
    inDefault: true,
    description: 'Public id, <prefix>:<n>',
  }),
  string: (
    description: string,
    o: Partial<FieldDef<TString>> & { maxLength?: number; minLength?: number } = {},
  ): FieldDef<TString> => ({
    kind: 'string',
    writeSchema: Type.String({ minLength: o.minLength ?? (o.required ? 1 : 0), maxLength: o.maxLength ?? 255 }),
    readSchema: Type.String(),
    filterable: true,
    sortable: true,
    inDefault: true,
    description,
    ...o,
  }),
  text: (description: string, o: Partial<FieldDef<TString>> = {}): FieldDef<TString> => ({
    kind: 'text',
    writeSchema: Type.String({ minLength: o.required ? 1 : 0, maxLength: 65535 }),
    readSchema: Type.String(),
    filterable: true,
    sortable: false,
    inDefault: true,
    description,
    ...o,
  }),
  date: (description: string, o: Partial<FieldDef<TString>> = {}): FieldDef<TString> => ({
    kind: 'date',
    writeSchema: Type.String({ format: 'date', maxLength: 10 }),
    readSchema: Type.String({ format: 'date' }),
    filterable: true,
    sortable: true,
    inDefault: true,
    description,
    ...o,
  }),
  datetime: (description: string, o: Partial<FieldDef<TString>> = {}): FieldDef<TString> => ({
    kind: 'datetime',
    readSchema: Type.String({ format: 'date-time' }),
    readOnly: true,
    filterable: true,
    sortable: true,
    inDefault: true,
    description,
    ...o,
  }),
  boolean: (description: string, o: Partial<FieldDef<TBoolean>> = {}): FieldDef<TBoolean> => ({
    kind: 'boolean',
    writeSchema: Type.Boolean(),
    readSchema: Type.Boolean(),
    filterable: true,
    sortable: true,
    inDefault: true,
    description,
    ...o,
  }),
  typekey: (
    description: string,
    typeName: string,
    codes: Record<string, string>,
    o: Partial<FieldDef<TTypekey>> = {},
  ): FieldDef<TTypekey> => ({
    kind: 'typekey',
    writeSchema: Type.Object(
      { code: Type.Union(Object.keys(codes).map((c) => Type.Literal(c))) },
      { additionalProperties: false },
    ),
    readSchema: Type.Object({ code: Type.String(), name: Type.String() }),
    typekey: { typeName, codes },
    filterable: true,
    sortable: true,
    inDefault: true,
    description,
    ...o,
  }),
  ref: (description: string, ref: NonNullable<FieldDef['ref']>, o: Partial<FieldDef<TRef>> = {}): FieldDef<TRef> => ({
    kind: 'ref',
    writeSchema: Type.Object(
      { id: Type.String({ pattern: ID_PATTERN, maxLength: 40 }) },
      { additionalProperties: false },
    ),
    readSchema: Type.Object({ id: Type.String(), displayName: Type.String(), type: Type.String(), uri: Type.String() }),
    ref,
    filterable: true,
    sortable: true,
    inDefault: true,
    description,
    ...o,
  }),
};

export function isDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Converts a stored row value to its API form. */
export function toApiValue(field: FieldDef, value: unknown, ids: IdCodec, refName?: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  switch (field.kind) {
    case 'boolean':
      return Boolean(value);
    case 'typekey': {
      const code = String(value);
      return { code, name: field.typekey?.codes[code] ?? code };
    }
    case 'ref': {
      const id = ids.format(Number(value));
      const ref = field.ref as NonNullable<FieldDef['ref']>;
      return { id, displayName: String(refName ?? id), type: ref.resourceType, uri: `${ref.uriPrefix}/${id}` };
    }
    case 'relatedTo': {
      const id = ids.format(Number(value));
      return { id, type: field.ref?.resourceType ?? 'Activity', uri: `${field.ref?.uriPrefix}/${id}` };
    }
    case 'roles':
      return typeof value === 'string' ? JSON.parse(value) : value;
    default:
      return value;
  }
}
