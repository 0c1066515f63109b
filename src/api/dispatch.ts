// Owns calling an operation: authorisation (the one place it is decided), validation, the handler,
// and mapping driver errors — identical for a direct HTTP request and a composite subrequest.
import { errors } from '../errors';
import { mapDbError } from '../db/errors';
import { checkBody, checkQuery, compileValidators, type Validators } from './validate';
import type { Caller, Operation, OpContext, OpInput, OpResult } from './operation';
import type { MaybePromise } from '../db/maybePromise';
import type { UnknownElements } from './requestOptions';

export interface CompiledOp {
  op: Operation;
  validators: Validators;
}

export function compileOperations(ops: Operation[]): CompiledOp[] {
  const seen = new Set<string>();
  for (const op of ops) {
    if (seen.has(op.operationId)) throw new Error(`duplicate operationId ${op.operationId}`);
    seen.add(op.operationId);
  }
  return ops.map((op) => ({ op, validators: compileValidators(op) }));
}

/** May this caller run this operation? The only authorisation rule in the server. */
export function isAllowed(op: Operation, caller: Caller): boolean {
  // A plain loop: this runs once per subrequest of a composite, and a callback would be a closure each time.
  for (const role of op.roles) if (caller.roles.includes(role)) return true;
  return false;
}

export function authorize(op: Operation, caller: Caller): void {
  if (!isAllowed(op, caller)) {
    throw errors.forbidden(
      `Your roles (${caller.roles.join(', ') || 'none'}) may not ${op.method.toUpperCase()} /${op.api}/v1${op.path}`,
    );
  }
}

/** A call's input as received, before validation: the shape of OpInput, whose query validation coerces in place. */
export type RawInput = OpInput;

/** Validates the raw input of an already-authorised call. The query object is coerced in place. */
export function validateInput(c: CompiledOp, raw: RawInput, unknown?: UnknownElements): OpInput {
  for (const name in raw.params) {
    if (raw.params[name] === 'this')
      throw errors.badInput('"this" stands for the root\'s id only in the uri of an included child', [
        { message: '"this" outside request inclusion', properties: { parameter: name } },
      ]);
  }
  const query = checkQuery(c.validators, raw.query, unknown);
  const body = c.op.rawBody ? undefined : checkBody(c.op, c.validators, raw.body, unknown);
  return { params: raw.params, query, body, headers: raw.headers, rawBody: raw.rawBody };
}

/**
 * The handler's result: at once when it had nothing to wait for, else a promise. `validated` is the
 * input when the caller already validated it for this call (it is not validated twice).
 */
export function invoke(c: CompiledOp, ctx: OpContext, raw: RawInput, validated?: OpInput): MaybePromise<OpResult> {
  authorize(c.op, ctx.caller);
  const input = validated ?? validateInput(c, raw, ctx.unknown);
  let result: MaybePromise<OpResult>;
  try {
    result = c.op.handler(ctx, input);
  } catch (err) {
    throw mapDbError(err);
  }
  return result instanceof Promise ? result.catch(rethrowMapped) : result;
}

function rethrowMapped(err: unknown): never {
  throw mapDbError(err);
}
