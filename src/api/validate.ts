// Owns request validation with ajv: one compiled validator per operation body and query string,
// built once from the same schemas OpenAPI publishes.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import { errors, type ErrorDetail } from '../errors';
import type { Operation } from './operation';

const bodyAjv = addFormats(new Ajv({ allErrors: true, strict: false }));
/** Query strings arrive as text: coerce to the schema's types and wrap a single value into an array. */
const queryAjv = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: 'array' }));

const MAX_DETAILS = 20;

function describe(error: ErrorObject, where: string): ErrorDetail {
  const path = `${where}${error.instancePath}`;
  if (error.keyword === 'additionalProperties') {
    const name = String((error.params as { additionalProperty: string }).additionalProperty);
    return { message: `Unknown member "${name}" at ${path || where}`, properties: { path, member: name } };
  }
  if (error.keyword === 'required') {
    const name = String((error.params as { missingProperty: string }).missingProperty);
    return { message: `Missing required member "${name}" at ${path || where}`, properties: { path, member: name } };
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return { message: `${path} must be one of: ${allowed.join(', ')}`, properties: { path, keyword: error.keyword, allowedValues: allowed } };
  }
  return { message: `${path || where} ${error.message ?? 'is invalid'}`, properties: { path, keyword: error.keyword, ...error.params } };
}

export function validationError(kind: 'body' | 'query', errs: ErrorObject[] | null | undefined) {
  const details = (errs ?? []).slice(0, MAX_DETAILS).map((e) => describe(e, kind === 'body' ? 'body' : 'query'));
  const first = details[0]?.message ?? 'is invalid';
  return errors.badInput(kind === 'body' ? `Invalid request body: ${first}` : `Invalid query parameter: ${first}`, details);
}

export interface Validators {
  body?: ValidateFunction;
  query: ValidateFunction;
}

export function compileValidators(op: Operation): Validators {
  const queryProps = Object.fromEntries(op.queryParams.map((p) => [p.name, Type.Optional(p.schema)]));
  return {
    body: op.body ? bodyAjv.compile(op.body) : undefined,
    query: queryAjv.compile(Type.Object(queryProps, { additionalProperties: op.anyQueryParams === true })),
  };
}

/** Validates (and coerces, in place) a query object; throws a 400 naming the parameter. */
export function checkQuery(v: Validators, query: Record<string, unknown>): Record<string, unknown> {
  if (!v.query(query)) throw validationError('query', v.query.errors);
  return query;
}

export function checkBody(op: Operation, v: Validators, body: unknown): unknown {
  if (!v.body) {
    if (body !== undefined && !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
      throw errors.badInput(`${op.method.toUpperCase()} ${op.path} takes no request body`);
    }
    return undefined;
  }
  if (body === undefined) throw errors.badInput('A request body is required');
  if (!v.body(body)) throw validationError('body', v.body.errors);
  return body;
}
