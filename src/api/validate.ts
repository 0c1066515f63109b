// Owns request validation with ajv: one compiled validator per operation body and query string,
// built once from the same schemas OpenAPI publishes; and dropping unknown members and parameters
// when the request asks for it (GW-UnknownPropertyHandling / GW-UnknownQueryParamHandling).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import { errors, type ErrorDetail } from '../errors';
import type { Operation } from './operation';
import { REJECT_UNKNOWN, type UnknownElements } from './requestOptions';

const bodyAjv = addFormats(new Ajv({ allErrors: true, strict: false, discriminator: true }));
/** Query strings arrive as text: coerce to the schema's types and wrap a single value into an array. */
const queryAjv = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: 'array' }));
/** The same body schemas, removing members where `additionalProperties: false` would refuse them. */
const lenientAjv = addFormats(new Ajv({ allErrors: true, strict: false, discriminator: true, removeAdditional: true }));

const MAX_DETAILS = 20;

/** `included.Note[2]` for a fault inside an included child (request inclusion), else nothing. */
function includedChild(instancePath: string): Record<string, string> {
  const m = /^\/included\/([^/]+)\/(\d+)/.exec(instancePath);
  return m ? { included: `included.${m[1]}[${m[2]}]` } : {};
}

function describe(error: ErrorObject, where: string): ErrorDetail {
  const detail = describeFault(error, where);
  return { ...detail, properties: { ...detail.properties, ...includedChild(error.instancePath) } };
}

function describeFault(error: ErrorObject, where: string): ErrorDetail {
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
    return {
      message: `${path} must be one of: ${allowed.join(', ')}`,
      properties: { path, keyword: error.keyword, allowedValues: allowed },
    };
  }
  return {
    message: `${path || where} ${error.message ?? 'is invalid'}`,
    properties: { path, keyword: error.keyword, ...error.params },
  };
}

export function validationError(kind: 'body' | 'query', errs: ErrorObject[] | null | undefined) {
  const details = (errs ?? []).slice(0, MAX_DETAILS).map((e) => describe(e, kind === 'body' ? 'body' : 'query'));
  const first = details[0]?.message ?? 'is invalid';
  return errors.badInput(
    kind === 'body' ? `Invalid request body: ${first}` : `Invalid query parameter: ${first}`,
    details,
  );
}

export interface Validators {
  readonly body?: ValidateFunction;
  /** The body validator that drops unknown members, compiled when a request first asks for it. */
  lenientBody?: ValidateFunction;
  readonly query: ValidateFunction;
  /** The query parameters the operation defines (undefined: it takes any). */
  queryNames?: ReadonlySet<string>;
}

/**
 * An operation's validators, each compiled when a request first needs it: compiling every operation's
 * schemas up front was the largest part of the server's start, and most operations are never called
 * by a given process.
 */
export function compileValidators(op: Operation): Validators {
  let body: ValidateFunction | undefined;
  let query: ValidateFunction | undefined;
  return {
    get body() {
      if (op.body) body ??= bodyAjv.compile(op.body);
      return body;
    },
    get query() {
      if (!query) {
        const props = Object.fromEntries(op.queryParams.map((p) => [p.name, Type.Optional(p.schema)]));
        query = queryAjv.compile(Type.Object(props, { additionalProperties: op.anyQueryParams === true }));
      }
      return query;
    },
    queryNames: op.anyQueryParams ? undefined : new Set(op.queryParams.map((p) => p.name)),
  };
}

/** Validates (and coerces, in place) a query object; throws a 400 naming the parameter. */
export function checkQuery(
  v: Validators,
  query: Record<string, unknown>,
  unknown: UnknownElements = REJECT_UNKNOWN,
): Record<string, unknown> {
  if (unknown.queryParams !== 'reject' && v.queryNames) {
    const names = Object.keys(query).filter((name) => !v.queryNames?.has(name));
    for (const name of names) delete query[name];
    unknown.drop('queryParams', names);
  }
  if (!v.query(query)) throw validationError('query', v.query.errors);
  return query;
}

/** The paths of the unknown members among a failed validation's errors. */
function unknownMembers(errs: ErrorObject[] | null | undefined): string[] {
  return (errs ?? [])
    .filter((e) => e.keyword === 'additionalProperties')
    .map((e) => `${e.instancePath}/${String((e.params as { additionalProperty: string }).additionalProperty)}`);
}

export function checkBody(
  op: Operation,
  v: Validators,
  body: unknown,
  unknown: UnknownElements = REJECT_UNKNOWN,
): unknown {
  if (!v.body) {
    if (body !== undefined && !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
      throw errors.badInput(`${op.method.toUpperCase()} ${op.path} takes no request body`);
    }
    return undefined;
  }
  if (body === undefined) throw errors.badInput('A request body is required');
  if (v.body(body)) return body;
  const members = unknownMembers(v.body.errors);
  if (unknown.properties === 'reject' || members.length === 0) throw validationError('body', v.body.errors);
  // Validated again by a validator that drops what the schema does not define (in place: the body is
  // the request's own parse): any other fault is still a 400.
  v.lenientBody ??= lenientAjv.compile(op.body as object);
  if (!v.lenientBody(body)) throw validationError('body', v.lenientBody.errors);
  unknown.drop('properties', members);
  return body;
}
