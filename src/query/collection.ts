// Owns collection reads shared by every resource: filters, sort, paging, total and links — all in SQL.
import type { Knex } from 'knex';
import { errors } from '../errors';
import { knexOf, selectRows, type DbHandle } from '../db/exec';
import type { IdCodec } from '../model/publicIds';
import { parseFieldSelection, present, type ResourceData, type ResourceDef, type Row } from '../model/resource';
import { applyFilters, parseFilter, type FilterCondition } from './filter';
import { DEFAULT_PAGE_SIZE, type CollectionQuery } from './params';

export interface CollectionBody {
  count: number;
  total?: number;
  data: ResourceData[];
  links: Record<string, { href: string; methods: string[] }>;
}

interface SortKey {
  column: string;
  descending: boolean;
}

export function parseSort(res: ResourceDef, sort: string[] | undefined): SortKey[] {
  const keys: SortKey[] = [];
  for (const item of (sort ?? []).flatMap((s) => s.split(','))) {
    const name = item.trim().replace(/^[-+]/, '');
    if (!name) continue;
    const field = res.fields[name];
    if (!field || field.writeOnly || !field.sortable) {
      throw errors.badInput(`Unknown or unsortable field "${name}" in sort`, [
        { message: 'Bad sort', properties: { parameter: 'sort', field: name } },
      ]);
    }
    keys.push({
      column: field.kind === 'id' ? `${res.alias}.id` : (field.column as string),
      descending: item.trim().startsWith('-'),
    });
  }
  return keys;
}

function href(
  path: string,
  q: CollectionQuery,
  pageOffset: number,
  methods: string[],
): { href: string; methods: string[] } {
  const search = new URLSearchParams();
  if (q.fields) search.set('fields', q.fields);
  for (const f of q.filter ?? []) search.append('filter', f);
  if (q.sort?.length) search.set('sort', q.sort.join(','));
  if (q.pageSize !== undefined) search.set('pageSize', String(q.pageSize));
  if (pageOffset > 0) search.set('pageOffset', String(pageOffset));
  if (q.includeTotal) search.set('includeTotal', 'true');
  const qs = search.toString();
  return { href: qs ? `${path}?${qs}` : path, methods };
}

export interface ListOptions {
  ids: IdCodec;
  /** The collection's own path relative to /rest, for links. */
  path: string;
  /** Conditions the collection itself imposes (e.g. notes of one activity). */
  scope?: (qb: Knex.QueryBuilder) => void;
  /** Conditions that do not come from the query string (search bodies). */
  extraFilters?: FilterCondition[];
  /** How the links are followed: `get` for a collection, `post` for a search. */
  linkMethods?: string[];
}

export async function listCollection(
  h: DbHandle,
  res: ResourceDef,
  q: CollectionQuery,
  opts: ListOptions,
): Promise<CollectionBody> {
  const selection = parseFieldSelection(res, q.fields);
  const conditions = [...(q.filter ?? []).map((f) => parseFilter(res, f, opts.ids)), ...(opts.extraFilters ?? [])];
  const sortKeys = parseSort(res, q.sort);
  const pageSize = q.pageSize ?? DEFAULT_PAGE_SIZE;
  const pageOffset = q.pageOffset ?? 0;
  const k = knexOf(h);
  const where = (qb: Knex.QueryBuilder) => {
    if (opts.scope) opts.scope(qb);
    applyFilters(qb, conditions, k);
  };

  const page = res.baseQuery(k).modify(where);
  // An empty value sorts after every value (before, descending) on both databases: SQLite would put it first.
  for (const key of sortKeys)
    page.orderByRaw(`?? ${key.descending ? 'desc nulls first' : 'asc nulls last'}`, [key.column]);
  page
    .orderBy(`${res.alias}.id`, 'asc')
    .limit(pageSize + 1)
    .offset(pageOffset);
  const rows = await selectRows<Row>(h, page);

  const body: CollectionBody = { count: Math.min(rows.length, pageSize), data: [], links: {} };
  if (q.includeTotal) {
    const [{ n }] = await selectRows<{ n: number | string }>(
      h,
      k(`${res.table} as ${res.alias}`).modify(where).count({ n: '*' }),
    );
    body.total = Number(n);
  }
  body.data = rows
    .slice(0, pageSize)
    .map((row) => present(res, row, { selection, ids: opts.ids, omitSetAtCommit: false }));
  const methods = opts.linkMethods ?? ['get'];
  body.links.self = href(opts.path, q, pageOffset, methods);
  body.links.first = href(opts.path, q, 0, methods);
  if (rows.length > pageSize) body.links.next = href(opts.path, q, pageOffset + pageSize, methods);
  if (pageOffset > 0) body.links.prev = href(opts.path, q, Math.max(0, pageOffset - pageSize), methods);
  // `total` after `count` reads best; keep the documented member order.
  return body.total === undefined ? body : { count: body.count, total: body.total, data: body.data, links: body.links };
}
