// Owns running one operation "as if sent alone": in a transaction of its own when it writes, with a
// hook that runs inside that transaction before the commit. Direct HTTP calls, batch subrequests and
// the asynchronous worker all run operations through here.
import type { DbHandle } from '../db/exec';
import { IdReservations } from '../db/ids';
import { inTransaction } from '../db/transaction';
import { invoke, type CompiledOp, type RawInput } from './dispatch';
import type { Caller, OpContext, OpResult, Services } from './operation';

export interface RunOptions {
  /** Runs inside the operation's own transaction, after the handler succeeded, before commit (idempotency records). */
  beforeCommit?: (trx: DbHandle, result: OpResult) => Promise<void>;
}

export async function runAlone(c: CompiledOp, services: Services, caller: Caller, raw: RawInput, requestId: string, opts: RunOptions = {}): Promise<OpResult> {
  const ctx = (db: DbHandle): OpContext => ({ db, caller, services, reservations: new IdReservations(), inComposite: false, requestId });
  if (!c.op.transactional) {
    // An operation without a transaction of ours may open its own (a composite) and runs the hook there.
    return invoke(c, { ...ctx(services.knex), beforeCommit: opts.beforeCommit }, raw);
  }
  return inTransaction(services.knex, async (trx) => {
    const result = await invoke(c, ctx(trx), raw);
    if (opts.beforeCommit) await opts.beforeCommit(trx, result);
    return result;
  }, { retries: services.config.db.retryLimit });
}
