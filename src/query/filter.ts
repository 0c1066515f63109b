// Owns `filter=field:op:value` (SPEC §2): parsing, typing values per field kind, and applying them as bound SQL.
import type { Knex } from 'knex';
import { errors } from '../errors';
import { isDate, type FieldDef } from '../model/fields';
import type { IdCodec } from '../model/publicIds';
import type { ResourceDef } from '../model/resource';
import { caseInsensitiveLike } from '../db/dialect';

export const OPERATORS = ['eq', 'ne', 'lt', 'gt', 'le', 'ge', 'in', 'ni', 'sw', 'cn'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface FilterCondition {
  field: string;
  column: string;
  op: Operator;
  values: unknown[];
}

function bad(message: string, expr: string): never {
  throw errors.badInput(message, [{ message, properties: { parameter: 'filter', filter: expr } }]);
}

/** Splits on single colons; `::` is a literal colon inside the value. */
function splitExpression(expr: string): [string, string, string] | undefined {
  const first = expr.indexOf(':');
  if (first <= 0) return undefined;
  const second = expr.indexOf(':', first + 1);
  if (second < 0) return undefined;
  return [expr.slice(0, first), expr.slice(first + 1, second), expr.slice(second + 1).replace(/::/g, ':')];
}

function typedValue(name: string, field: FieldDef, raw: string, ids: IdCodec, expr: string): unknown {
  switch (field.kind) {
    case 'id':
    case 'ref':
    case 'relatedTo': {
      const id = ids.parse(raw);
      if (id === undefined) bad(`"${raw}" is not an id for filter on ${name}`, expr);
      return id;
    }
    case 'date':
      if (!isDate(raw)) bad(`"${raw}" is not a date (YYYY-MM-DD) for filter on ${name}`, expr);
      return raw;
    case 'datetime': {
      // Times are UTC (SPEC §2): a time without a zone is read as UTC, never as the server's local time.
      const m = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(raw);
      const t = m ? new Date(m[1] && !m[2] ? `${raw}Z` : raw) : new Date(NaN);
      if (Number.isNaN(t.getTime())) bad(`"${raw}" is not an ISO-8601 time for filter on ${name}`, expr);
      return t.toISOString();
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') bad(`"${raw}" is not true or false for filter on ${name}`, expr);
      return raw === 'true';
    case 'typekey':
      if (!field.typekey || !(raw in field.typekey.codes)) {
        bad(
          `"${raw}" is not a code of ${field.typekey?.typeName ?? name} (${Object.keys(field.typekey?.codes ?? {}).join(', ')})`,
          expr,
        );
      }
      return raw;
    default:
      return raw;
  }
}

export function parseFilter(res: ResourceDef, expr: string, ids: IdCodec): FilterCondition {
  const parts = splitExpression(expr);
  if (!parts) bad(`Filter "${expr}" is not of the form field:op:value`, expr);
  const [name, op, rawValue] = parts;
  const field = res.fields[name];
  if (!field || field.writeOnly || !field.filterable) bad(`Unknown or unfilterable field "${name}" in filter`, expr);
  if (!(OPERATORS as readonly string[]).includes(op))
    bad(`Unknown filter operator "${op}"; use one of ${OPERATORS.join(' ')}`, expr);
  const operator = op as Operator;
  if ((operator === 'sw' || operator === 'cn') && field.kind !== 'string' && field.kind !== 'text') {
    bad(`Operator ${operator} applies only to text fields, not ${name}`, expr);
  }
  const rawValues = operator === 'in' || operator === 'ni' ? rawValue.split(',') : [rawValue];
  if (rawValues.length > 100) bad('An in/ni list holds at most 100 values', expr);
  const values = rawValues.map((v) => typedValue(name, field, v, ids, expr));
  const column = field.kind === 'id' ? `${res.alias}.id` : (field.column as string);
  return { field: name, column, op: operator, values };
}

const COMPARISON: Partial<Record<Operator, string>> = { eq: '=', lt: '<', gt: '>', le: '<=', ge: '>=' };

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Adds the conditions to a query; every value is a bound parameter. */
export function applyFilters(
  qb: Knex.QueryBuilder,
  conditions: FilterCondition[],
  h: Pick<Knex, 'client'>,
): Knex.QueryBuilder {
  for (const c of conditions) {
    const cmp = COMPARISON[c.op];
    if (cmp) qb.where(c.column, cmp, c.values[0] as Knex.Value);
    else if (c.op === 'ne') qb.where((w) => w.where(c.column, '<>', c.values[0] as Knex.Value).orWhereNull(c.column));
    else if (c.op === 'in') qb.whereIn(c.column, c.values as Knex.Value[]);
    else if (c.op === 'ni') qb.where((w) => w.whereNotIn(c.column, c.values as Knex.Value[]).orWhereNull(c.column));
    else {
      const pattern = c.op === 'sw' ? `${escapeLike(String(c.values[0]))}%` : `%${escapeLike(String(c.values[0]))}%`;
      qb.whereRaw(`?? ${caseInsensitiveLike(h)} ? ESCAPE '\\'`, [c.column, pattern]);
    }
  }
  return qb;
}
