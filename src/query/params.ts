// Owns the query parameters shared by every collection and resource (SPEC §2), as schema-backed definitions.
import { Type, type TSchema } from '@sinclair/typebox';

/** One query parameter an operation accepts, as routing, validation, the composite and OpenAPI see it. */
export interface QueryParamDef {
  name: string;
  schema: TSchema;
  description: string;
  allowForComposite: boolean;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_FILTERS = 20;

const fields: QueryParamDef = {
  name: 'fields',
  schema: Type.String({ maxLength: 2000 }),
  description: 'Comma list of attributes to return (and `id`); `*all` for every attribute',
  allowForComposite: true,
};
const filter: QueryParamDef = {
  name: 'filter',
  schema: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: MAX_FILTERS }),
  description: '`field:op:value`, repeatable; ops eq ne lt gt le ge in ni sw cn; a colon in a value is written `::`',
  allowForComposite: true,
};
const sort: QueryParamDef = {
  name: 'sort',
  schema: Type.Array(Type.String({ maxLength: 500 }), { maxItems: 10 }),
  description: 'Comma list of attributes; `-` before one sorts it descending',
  allowForComposite: true,
};
const pageSize: QueryParamDef = {
  name: 'pageSize',
  schema: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE }),
  description: `Items per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`,
  allowForComposite: true,
};
const pageOffset: QueryParamDef = {
  name: 'pageOffset',
  schema: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
  description: 'Items to skip before the page starts',
  allowForComposite: true,
};
const includeTotal: QueryParamDef = {
  name: 'includeTotal',
  schema: Type.Boolean(),
  description: 'Add `total`, the number of items matching the filters',
  allowForComposite: true,
};

export const COLLECTION_PARAMS: readonly QueryParamDef[] = [fields, filter, sort, pageSize, pageOffset, includeTotal];
export const SINGLE_PARAMS: readonly QueryParamDef[] = [fields];
/** A search POST pages and shapes like a collection but takes its filters from the body. */
export const SEARCH_PARAMS: readonly QueryParamDef[] = [
  { ...fields, allowForComposite: false },
  { ...sort, allowForComposite: false },
  { ...pageSize, allowForComposite: false },
  { ...pageOffset, allowForComposite: false },
  { ...includeTotal, allowForComposite: false },
];

export interface CollectionQuery {
  fields?: string;
  filter?: string[];
  sort?: string[];
  pageSize?: number;
  pageOffset?: number;
  includeTotal?: boolean;
}
