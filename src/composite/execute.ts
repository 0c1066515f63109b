// Owns the execute stage: ids reserved ahead, every request in order inside ONE transaction with the
// idempotency record, variables set from each subresponse, then the selections against committed data.
import type { Knex } from 'knex';
import { invoke, type RawInput } from '../api/dispatch';
import type { Caller, OpContext, OpResult, Services } from '../api/operation';
import { compileOnce, execute, flushWrites, queryFirst, writeBehind, type DbHandle } from '../db/exec';
import { nowIso } from '../db/dialect';
import { dbErrorCode, mapDbError } from '../db/errors';
import { IdReservations } from '../db/ids';
import { inTransaction } from '../db/transaction';
import { QueuedWriteFailed } from '../db/sqliteTransaction';
import { ApiError, errors } from '../errors';
import type { CompositePlan, PlannedCall } from './plan';
import { readVarPath, type Vars } from './vars';

export type SubResponse =
  | { body?: unknown; headers: Record<string, string>; status: number }
  | { responseIncluded: false }
  | { requestError: unknown }
  | { skipped: true };

export interface Timing {
  name: string;
  desc: string;
  ms: number;
}

export type CompositeOutcome =
  | { ok: true; responses: SubResponse[]; selections: SubResponse[]; timings: Timing[] }
  | { ok: false; failedAt: number; responses: SubResponse[]; selections: SubResponse[]; timings: Timing[] };

export interface ExecuteContext {
  services: Services;
  caller: Caller;
  requestId: string;
  transactionId?: string;
}

/** Raised inside the transaction to roll it back while keeping what the client must be told. */
class SubrequestFailed extends Error {
  constructor(readonly index: number, readonly error: ApiError) {
    super(error.message);
  }
}

/**
 * What a failure inside the transaction means for the client. An insert an earlier subrequest queued
 * (write-behind) ran before this subrequest's failure would have, so it is run now and, if it fails,
 * that earlier subrequest is the one that failed. A 4xx is its subrequest's failure; anything else
 * (a 5xx, a driver failure) fails the whole composite.
 */
function failureOf(trx: DbHandle, index: number, err: unknown): unknown {
  if (!(err instanceof QueuedWriteFailed)) {
    if (!(err instanceof ApiError) || err.status >= 500) return err;
    try {
      flushWrites(trx);
    } catch (earlier) {
      return failureOf(trx, index, earlier);
    }
    return new SubrequestFailed(index, err);
  }
  const mapped = mapDbError(err.cause);
  return mapped instanceof ApiError && mapped.status < 500 ? new SubrequestFailed(err.owner, mapped) : mapped;
}

/** Milliseconds since `start` (a `performance.now()`): a double, no BigInt allocated per subrequest. */
function since(start: number): number {
  return performance.now() - start;
}

function rawInput(call: PlannedCall, vars: Vars): RawInput {
  const params: Record<string, string> = {};
  for (const [name, value] of call.params) params[name] = typeof value === 'string' ? value : (value(vars) as string);
  // A copy: validation coerces the query in place, and the plan's own object must stay as written.
  const query = Object.assign({}, (call.queryRenderer ? call.queryRenderer(vars) : call.query) as Record<string, unknown>);
  const body = call.bodyRenderer ? call.bodyRenderer(vars) : call.body;
  return { params, query, body, headers: call.headersRenderer ? renderedHeaders(call.headersRenderer(vars) as Record<string, unknown>) : call.headers };
}

/** Header values as text (a whole-value variable keeps its JSON type until here). */
function renderedHeaders(rendered: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const k of Object.keys(rendered)) headers[k] = String(rendered[k]);
  return headers;
}

function entry(result: OpResult): SubResponse {
  return result.body === undefined ? { headers: result.headers ?? {}, status: result.status } : { body: result.body, headers: result.headers ?? {}, status: result.status };
}

/** A request's result: sets the variables it declares, then its entry in `responses`. */
function afterRequest(call: PlannedCall, result: OpResult, vars: Vars): SubResponse {
  for (const v of call.vars) {
    const value = readVarPath(v.steps, result.body);
    if (value === undefined) {
      throw errors.badInput(`var "${v.name}": path ${v.path} matches nothing in the response`, [{ message: 'Var path matched nothing', properties: { var: v.name, path: v.path } }]);
    }
    vars.set(v.name, value);
  }
  return call.includeResponse ? entry(result) : { responseIncluded: false };
}

async function recordTransactionId(trx: DbHandle, id: string): Promise<void> {
  // knex orders insert columns by name: create_time, id.
  const sql = compileOnce(trx, 'composite:recordTx', (k) => k('composite_transactions').insert({ create_time: '', id: '' }));
  try {
    await execute(trx, sql, [nowIso(), id]);
  } catch (err) {
    const code = dbErrorCode(err);
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw errors.alreadyExecuted(id);
    throw err;
  }
}

export async function alreadyExecuted(knex: Knex, id: string): Promise<boolean> {
  const sql = compileOnce(knex, 'composite:findTx', (k) => k('composite_transactions').select('id').where('id', ''));
  return (await queryFirst(knex, sql, [id])) !== undefined;
}

async function runSelections(plan: CompositePlan, x: ExecuteContext, vars: Vars, timings: Timing[]): Promise<SubResponse[]> {
  const ctx: OpContext = { db: x.services.knex, caller: x.caller, services: x.services, reservations: new IdReservations(), inComposite: false, requestId: x.requestId };
  const out: SubResponse[] = [];
  for (const call of plan.selections) {
    const start = performance.now();
    try {
      out.push(entry(await invoke(call.compiled, ctx, rawInput(call, vars))));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      out.push({ body: err.toBody(), headers: {}, status: err.status });
    }
    timings.push({ name: call.timingName, desc: call.timingDesc, ms: since(start) });
  }
  return out;
}

export async function executeComposite(plan: CompositePlan, x: ExecuteContext): Promise<CompositeOutcome> {
  const { knex, config } = x.services;
  const timings: Timing[] = [];
  const vars: Vars = new Map();
  let responses: SubResponse[] = [];

  if (plan.requests.length > 0) {
    const reservations = new IdReservations();
    let commitStart = performance.now();
    try {
      await inTransaction(knex, async (trx) => {
        // A retried attempt starts clean and reuses the same reserved ids (the first attempt committed nothing).
        reservations.rewind();
        responses = [];
        vars.clear();
        timings.length = 0;
        if (x.transactionId !== undefined) await recordTransactionId(trx, x.transactionId);
        const ctx: OpContext = { db: trx, caller: x.caller, services: x.services, reservations, inComposite: true, requestId: x.requestId };
        for (const call of plan.requests) {
          const start = performance.now();
          writeBehind(trx, call.index);
          try {
            let result = invoke(call.compiled, ctx, rawInput(call, vars));
            if (result instanceof Promise) result = await result;
            responses.push(afterRequest(call, result, vars));
          } catch (err) {
            throw failureOf(trx, call.index, err);
          } finally {
            timings.push({ name: call.timingName, desc: call.timingDesc, ms: since(start) });
          }
        }
        const writesStart = performance.now();
        try {
          flushWrites(trx);
        } catch (err) {
          // Only a queued insert can fail here, and it names its own subrequest.
          throw failureOf(trx, plan.requests.length, err);
        }
        timings.push({ name: 'writes', desc: 'Queued inserts', ms: since(writesStart) });
        // The commit happens when this function returns.
        commitStart = performance.now();
      }, {
        retries: config.db.retryLimit,
        isolationLevel: 'read committed',
        // The ids the composite will show are reserved for good even if it fails: never reused.
        durable: { run: (h) => reservations.reserve(h, plan.creates), keep: (h) => reservations.keep(h) },
      });
      timings.push({ name: 'commit', desc: 'Commit', ms: since(commitStart) });
    } catch (err) {
      if (!(err instanceof SubrequestFailed)) throw err;
      // An insert that ran late fails an earlier subrequest than the last one processed.
      timings.length = Math.min(timings.length, err.index + 1);
      const failed: SubResponse[] = [...responses.slice(0, err.index), { requestError: err.error.toBody() }];
      for (let i = failed.length; i < plan.requests.length; i++) failed.push({ skipped: true });
      return { ok: false, failedAt: err.index, responses: failed, selections: plan.selections.map(() => ({ skipped: true })), timings };
    }
  }
  const selections = await runSelections(plan, x, vars, timings);
  return { ok: true, responses, selections, timings };
}
