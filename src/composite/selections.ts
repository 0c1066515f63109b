// Owns the selections stage: each GET of the composite run after the commit against committed data (or,
// in a dry run, inside the transaction before its rollback); a refused selection is its own 4xx entry.
import { invoke } from '../api/dispatch';
import type { OpContext } from '../api/operation';
import type { DbHandle } from '../db/exec';
import { IdReservations } from '../db/sequences';
import { ApiError } from '../errors';
import type { ExecuteContext } from './execute';
import type { CompositePlan } from './plan';
import { rawInput } from './render';
import { entry, since, type SubResponse, type Timing } from './subresponse';
import type { RenderBudget, Vars } from './vars';

/** The selections, against committed data (`db` is the pool) or, in a dry run, the transaction's. */
export async function runSelections(
  plan: CompositePlan,
  x: ExecuteContext,
  vars: Vars,
  budget: RenderBudget,
  timings: Timing[],
  db: DbHandle = x.pool,
): Promise<SubResponse[]> {
  const ctx: OpContext = {
    db,
    caller: x.caller,
    services: x.services,
    reservations: new IdReservations(),
    inComposite: false,
    requestId: x.requestId,
    unknown: x.unknown,
  };
  const out: SubResponse[] = [];
  for (const call of plan.selections) {
    const start = performance.now();
    try {
      out.push(entry(await invoke(call.compiled, ctx, rawInput(call, vars, budget))));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      out.push({ body: err.toBody(), headers: {}, status: err.status });
    }
    timings.push({ name: call.timingName, ms: since(start), call });
  }
  return out;
}
