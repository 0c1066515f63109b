// Owns running one operation "as if sent alone": its own transaction (when it writes), authorisation
// as the caller, validation and the handler — what a direct HTTP request, a batch subrequest and a
// queued asynchronous request all go through — and a dry run's rollback (GW-DoNotCommit).
import type { DbHandle } from '../db/exec';
import { IdReservations } from '../db/sequences';
import { inTransaction, onceMoreIfConnectionLost } from '../db/transaction';
import { errors } from '../errors';
import { invoke, type CompiledOp, type RawInput } from './dispatch';
import type { Caller, OpContext, OpInput, OpResult, Runtime } from './operation';
import { DRY_RUN_HEADER, type UnknownElements } from './requestOptions';

export interface RunOptions {
  /** GW-DoNotCommit: run everything, answer as usual, then roll back. */
  dryRun?: boolean;
  /** Runs first inside the operation's own transaction, before the handler (an Idempotency-Key's check). */
  atBegin?: (trx: DbHandle) => Promise<void>;
  /** Runs inside the operation's own transaction, after the handler succeeded, before commit (idempotency records). */
  beforeCommit?: (trx: DbHandle, result: OpResult) => Promise<void>;
  /** GW-Unknown…Handling of the request (a batch's main request, for each subrequest); default: refuse. */
  unknown?: UnknownElements;
  /** The input, when the caller already validated (and checked) it for this call with these options. */
  validated?: OpInput;
}

/** Thrown out of a dry run's transaction to roll it back, carrying the answer it would have given. */
class DryRunRollback extends Error {
  constructor(readonly result: OpResult) {
    super('dry run rolled back');
  }
}

function echoDryRun(result: OpResult): OpResult {
  return { ...result, headers: { ...result.headers, [DRY_RUN_HEADER]: 'true' } };
}

export async function runAlone(
  c: CompiledOp,
  { services, pool }: Runtime,
  caller: Caller,
  raw: RawInput,
  requestId: string,
  opts: RunOptions = {},
): Promise<OpResult> {
  const dryRun = opts.dryRun === true;
  const ctx = (db: OpContext['db']): OpContext => ({
    db,
    caller,
    services,
    reservations: new IdReservations(),
    inComposite: false,
    requestId,
    dryRun,
    unknown: opts.unknown,
  });
  if (!c.op.transactional) {
    if (dryRun && c.op.method !== 'get' && c.op.dryRun === undefined) {
      throw errors.badInput(`${c.op.operationId} cannot be rolled back, so ${DRY_RUN_HEADER} is refused`, [
        { message: 'Dry run not supported', properties: { header: DRY_RUN_HEADER, operationId: c.op.operationId } },
      ]);
    }
    // A read that lost its connection changed nothing: it runs once more on a fresh one. An operation
    // that opens its own transaction (a composite) runs the atBegin and beforeCommit hooks there.
    const own = { ...ctx(pool), atBegin: opts.atBegin, beforeCommit: opts.beforeCommit };
    const result =
      c.op.method === 'get'
        ? await onceMoreIfConnectionLost(() => invoke(c, own, raw, opts.validated))
        : await invoke(c, own, raw, opts.validated);
    return dryRun ? echoDryRun(result) : result;
  }
  try {
    return await inTransaction(
      pool,
      async (trx) => {
        if (opts.atBegin) await opts.atBegin(trx);
        const result = await invoke(c, ctx(trx), raw, opts.validated);
        // A dry run writes no idempotency record: the request may still be sent for real.
        if (dryRun) throw new DryRunRollback(result);
        if (opts.beforeCommit) await opts.beforeCommit(trx, result);
        return result;
      },
      { retries: services.config.db.retryLimit },
    );
  } catch (err) {
    if (err instanceof DryRunRollback) return echoDryRun(err.result);
    throw err;
  }
}
