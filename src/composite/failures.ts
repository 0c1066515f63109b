// Owns what a failure inside the composite's transaction means: the failed subrequest and its 4xx for
// the client (the transaction rolled back), a dry run's rollback, or an error that fails the whole call.
import { flushWrites, type DbHandle } from '../db/exec';
import { mapDbError, QueuedWriteFailed } from '../db/errors';
import { ApiError } from '../errors';
import type { SubResponse } from './subresponse';

/** Thrown out of a dry run's transaction, after its selections ran, to roll it back. */
export class DryRunDone extends Error {
  constructor(readonly selections: SubResponse[]) {
    super('dry run rolled back');
  }
}

/** Raised inside the transaction to roll it back while keeping what the client must be told. */
export class SubrequestFailed extends Error {
  constructor(
    readonly index: number,
    readonly error: ApiError,
  ) {
    super(error.message);
  }
}

/**
 * A queued insert that failed (write-behind) is the failure of the subrequest that queued it: a 4xx
 * there, or the whole composite's failure. Any other error is returned as it is.
 */
export function queuedFailure(err: unknown): unknown {
  if (!(err instanceof QueuedWriteFailed)) return err;
  const mapped = mapDbError(err.cause);
  return mapped instanceof ApiError && mapped.status < 500 ? new SubrequestFailed(err.owner, mapped) : mapped;
}

/**
 * What a failure of subrequest `index` means for the client. A 4xx is its failure — unless an insert
 * an earlier subrequest queued fails, which would have run first: so the queue is written before it
 * is decided. Anything else (a 5xx, a driver failure, a batch of inserts that failed as a whole)
 * fails this attempt as it is.
 */
export async function failureOf(trx: DbHandle, index: number, err: unknown): Promise<unknown> {
  if (!(err instanceof ApiError) || err.status >= 500) return queuedFailure(err);
  try {
    await flushWrites(trx);
  } catch (earlier) {
    return queuedFailure(earlier);
  }
  return new SubrequestFailed(index, err);
}
