// Owns running one operation "as if sent alone": its own transaction (when it writes), authorisation
// as the caller, validation and the handler — what a direct HTTP request, a batch subrequest and a
// queued asynchronous request all go through.
import type { DbHandle } from '../db/exec';
import { IdReservations } from '../db/ids';
import { inTransaction } from '../db/transaction';
import { invoke, type CompiledOp, type RawInput } from './dispatch';
import type { Caller, OpContext, OpResult, Services } from './operation';

export interface RunOptions {
  /** GW-DoNotCommit: run everything, answer as usual, then roll back. */
  dryRun?: boolean;
  /** Runs inside the operation's own transaction, after the handler succeeded, before commit (idempotency records). */
  beforeCommit?: (trx: DbHandle, result: OpResult) => Promise<void>;
}

export async function runAlone(c: CompiledOp, services: Services, caller: Caller, raw: RawInput, requestId: string, opts: RunOptions = {}): Promise<OpResult> {
  const ctx = (db: OpContext['db']): OpContext => ({ db, caller, services, reservations: new IdReservations(), inComposite: false, requestId });
  if (!c.op.transactional) return invoke(c, ctx(services.knex), raw);
  return inTransaction(services.knex, async (trx) => {
    const result = await invoke(c, ctx(trx), raw);
    if (opts.beforeCommit) await opts.beforeCommit(trx, result);
    return result;
  }, { retries: services.config.db.retryLimit });
}
