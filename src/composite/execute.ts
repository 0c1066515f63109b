// Owns the execute stage: ids reserved ahead, every request in order inside ONE transaction with the
// idempotency record, variables set from each subresponse, then the selections against committed data.
import type { Knex } from 'knex';
import { invoke } from '../api/dispatch';
import type { Caller, OpContext, OpResult, Services } from '../api/operation';
import type { UnknownElements } from '../api/requestOptions';
import { flushWritesBeforeCommit, writeBehind, type DbHandle } from '../db/exec';
import { BatchedWriteFailed } from '../db/errors';
import { IdReservations } from '../db/sequences';
import { inTransaction } from '../db/transaction';
import { errors } from '../errors';
import { DryRunDone, failureOf, queuedFailure, SubrequestFailed } from './failures';
import type { CompositePlan, PlannedCall } from './plan';
import { rawInput, renderBudget } from './render';
import { runSelections } from './selections';
import { entry, since, type SubResponse, type Timing } from './subresponse';
import { recordTransactionId } from './transactionIds';
import { readVarPath, type RenderBudget, type Vars } from './vars';

export type CompositeOutcome =
  | { ok: true; responses: SubResponse[]; selections: SubResponse[]; timings: Timing[]; vars: Vars }
  | { ok: false; failedAt: number; responses: SubResponse[]; selections: SubResponse[]; timings: Timing[] };

export interface ExecuteContext {
  services: Services;
  /** The pool: the composite opens its transaction on it and runs its selections on it. */
  pool: Knex;
  caller: Caller;
  requestId: string;
  transactionId?: string;
  /** GW-DoNotCommit: the requests run, then the selections inside the same transaction, then it rolls back. */
  dryRun?: boolean;
  /** The composite request's handling of unknown members and parameters, for every subrequest. */
  unknown?: UnknownElements;
  /** Runs first inside the transaction, before the requests (an Idempotency-Key's check). */
  atBegin?: (trx: DbHandle) => Promise<void>;
  /** Runs inside the transaction after every request succeeded, before the commit (an Idempotency-Key answer). */
  beforeCommit?: (trx: DbHandle, done: RequestsDone) => Promise<void>;
}

/** What the requests left for the client and for the selections, once every one succeeded. */
export interface RequestsDone {
  responses: SubResponse[];
  vars: Vars;
}

/** A request's result: sets the variables it declares, then its entry in `responses`. */
function afterRequest(call: PlannedCall, result: OpResult, vars: Vars): SubResponse {
  for (const v of call.vars) {
    const value = readVarPath(v.steps, result.body);
    if (value === undefined) {
      throw errors.badInput(`var "${v.name}": path ${v.path} matches nothing in the response`, [
        { message: 'Var path matched nothing', properties: { var: v.name, path: v.path } },
      ]);
    }
    vars.set(v.name, value);
  }
  return call.includeResponse ? entry(result) : { responseIncluded: false };
}

/** What the requests leave behind; a retried or repeated attempt starts it afresh. */
interface RequestsState {
  reservations: IdReservations;
  responses: SubResponse[];
  vars: Vars;
  budget: RenderBudget;
  timings: Timing[];
}

/**
 * Runs every request in order in ONE transaction and commits it (tried again whole on serialization
 * failures and deadlocks). With `queueInserts`, inserts are written behind (see `writeBehind`).
 */
async function runRequests(
  plan: CompositePlan,
  x: ExecuteContext,
  s: RequestsState,
  queueInserts: boolean,
): Promise<void> {
  const { config } = x.services;
  const knex = x.pool;
  let commitStart = performance.now();
  await inTransaction(
    knex,
    async (trx) => {
      // An attempt starts clean and reuses the same reserved ids (an earlier attempt committed nothing).
      s.reservations.rewind();
      s.responses.length = 0;
      s.vars.clear();
      s.budget.reset();
      s.timings.length = 0;
      if (x.atBegin) await x.atBegin(trx);
      if (x.transactionId !== undefined) await recordTransactionId(trx, x.transactionId);
      const ctx: OpContext = {
        db: trx,
        caller: x.caller,
        services: x.services,
        reservations: s.reservations,
        inComposite: true,
        requestId: x.requestId,
        unknown: x.unknown,
      };
      for (const call of plan.requests) {
        const start = performance.now();
        if (queueInserts) writeBehind(trx, call.index);
        try {
          let result = invoke(call.compiled, ctx, rawInput(call, s.vars, s.budget));
          if (result instanceof Promise) result = await result;
          s.responses.push(afterRequest(call, result, s.vars));
        } catch (err) {
          throw await failureOf(trx, call.index, err);
        } finally {
          s.timings.push({ name: call.timingName, ms: since(start), call });
        }
      }
      const writesStart = performance.now();
      try {
        await flushWritesBeforeCommit(trx);
      } catch (err) {
        throw queuedFailure(err);
      }
      s.timings.push({ name: 'writes', desc: 'Queued inserts', ms: since(writesStart) });
      // A dry run stores no answer (no Idempotency-Key record): it rolls back after its selections.
      if (x.dryRun) throw new DryRunDone(await runSelections(plan, x, s.vars, s.budget, s.timings, trx));
      if (x.beforeCommit) await x.beforeCommit(trx, { responses: s.responses, vars: s.vars });
      // The commit happens when this function returns.
      commitStart = performance.now();
    },
    {
      retries: config.db.retryLimit,
      isolationLevel: 'read committed',
      // The ids the composite will show are reserved for good even if it fails: never reused.
      // A dry run keeps nothing: on SQLite the counter rolls back with the rest, so every table is as it
      // was, and the ids its answer showed may be handed out again (nothing with them was committed).
      durable: {
        run: (h) => s.reservations.reserve(h, plan.creates),
        keep: (h) => (x.dryRun ? Promise.resolve() : s.reservations.keep(h)),
      },
    },
  );
  s.timings.push({ name: 'commit', desc: 'Commit', ms: since(commitStart) });
}

export async function executeComposite(plan: CompositePlan, x: ExecuteContext): Promise<CompositeOutcome> {
  const s: RequestsState = {
    reservations: new IdReservations(),
    responses: [],
    vars: new Map(),
    budget: renderBudget(plan, x.services.config),
    timings: [],
  };
  if (plan.requests.length > 0) {
    try {
      try {
        await runRequests(plan, x, s, true);
      } catch (err) {
        // A multi-row insert failed without naming its row (PostgreSQL): nothing was committed, so
        // the requests run again with every insert on its own, and the failure is found exactly.
        if (!(err instanceof BatchedWriteFailed)) throw err;
        await runRequests(plan, x, s, false);
      }
    } catch (err) {
      if (err instanceof DryRunDone)
        return { ok: true, responses: s.responses, selections: err.selections, timings: s.timings, vars: s.vars };
      if (!(err instanceof SubrequestFailed)) throw err;
      // An insert that ran late fails an earlier subrequest than the last one processed.
      s.timings.length = Math.min(s.timings.length, err.index + 1);
      const failed: SubResponse[] = [...s.responses.slice(0, err.index), { requestError: err.error.toBody() }];
      for (let i = failed.length; i < plan.requests.length; i++) failed.push({ skipped: true });
      return {
        ok: false,
        failedAt: err.index,
        responses: failed,
        selections: plan.selections.map(() => ({ skipped: true })),
        timings: s.timings,
      };
    }
  }
  const selections = await runSelections(plan, x, s.vars, s.budget, s.timings);
  return { ok: true, responses: s.responses, selections, timings: s.timings, vars: s.vars };
}
