// Owns running a claimed durable call: the operation as if sent alone, its answer stored under the
// claim token in the same transaction as its writes (or right after a rollback), a lease renewed
// while it runs, and the conversions between an operation's result and a stored answer.
import type { RawInput, CompiledOp } from '../api/dispatch';
import type { Caller, OpInput, OpResult, Runtime, StoredAnswer } from '../api/operation';
import type { UnknownElements } from '../api/requestOptions';
import { IdReservations } from '../db/sequences';
import { runAlone, type RunOptions } from '../api/runAlone';
import { mapDbError } from '../db/errors';
import { ApiError, errors } from '../errors';
import { completeRecord, dropRecord, finalizeAnswer, renewLease, type RecordKind, type RequestRecord } from './records';

/** How long a runner's claim holds without renewal; it renews every third of it while it runs. */
export const LEASE_MS = 15000;

export function iso(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

export interface Claim {
  id: string;
  /** The claim token: the answer is stored only under it. */
  owner: string;
  kind: RecordKind;
}

export function answerOf(result: OpResult, partial = false): StoredAnswer {
  const answer: StoredAnswer = { status: result.status, headers: { ...(result.headers ?? {}) } };
  if (result.raw)
    answer.raw = { contentType: result.raw.contentType, base64: Buffer.from(result.raw.body).toString('base64') };
  else if (result.body !== undefined) answer.body = result.body;
  if (partial) answer.partial = true;
  return answer;
}

export function resultOf(answer: StoredAnswer): OpResult {
  const result: OpResult = { status: answer.status, headers: { ...answer.headers } };
  if (answer.raw) result.raw = { contentType: answer.raw.contentType, body: Buffer.from(answer.raw.base64, 'base64') };
  else if (answer.body !== undefined) result.body = answer.body;
  return result;
}

export function errorAnswer(err: ApiError): StoredAnswer {
  return { status: err.status, headers: { ...err.headers }, body: err.toBody() };
}

/** The runner lost its claim (its lease ran out and another took over): its writes must not commit. */
function claimLost(): ApiError {
  return errors.conflict('This request is being run by another worker');
}

/**
 * After a failure: a 4xx answer is kept (its retry gets the same error). A 5xx of a synchronous call
 * is forgotten, so its retry runs again; an asynchronous call keeps it (its caller is waiting for an
 * answer) and frees its key. A failure to store is logged: the record stays in progress, and once its
 * lease runs out a retry or a worker runs it again — nothing of the failed run was committed.
 */
async function afterFailure({ services, pool }: Runtime, claim: Claim, err: unknown, requestId: string): Promise<void> {
  const mapped = mapDbError(err);
  const now = iso();
  try {
    if (mapped instanceof ApiError && mapped.status < 500)
      await completeRecord(pool, claim.id, claim.owner, errorAnswer(mapped), undefined, now);
    else if (claim.kind === 'async')
      await completeRecord(
        pool,
        claim.id,
        claim.owner,
        errorAnswer(mapped instanceof ApiError ? mapped : errors.internal(requestId)),
        undefined,
        now,
        true,
      );
    else await dropRecord(pool, claim.id, claim.owner);
  } catch (storeErr) {
    services.logger.warn(
      { reqId: requestId, error: (storeErr as Error)?.name },
      'could not store the answer of a failed durable request',
    );
  }
}

/** Runs the claimed call; answers (or throws) exactly as `runAlone` would. */
export async function runClaimed(
  rt: Runtime,
  c: CompiledOp,
  caller: Caller,
  raw: RawInput,
  claim: Claim,
  requestId: string,
  opts: RunOptions = {},
): Promise<OpResult> {
  const knex = rt.pool;
  const lease = setInterval(() => {
    renewLease(knex, claim.id, claim.owner, iso(Date.now() + LEASE_MS)).catch(() => undefined);
  }, LEASE_MS / 3);
  lease.unref();
  try {
    let result: OpResult;
    // Set once the answer committed with the writes: then only a composite's selections remain to add.
    let storedWithWrites = false;
    try {
      result = await runAlone(c, rt, caller, raw, requestId, {
        ...opts,
        beforeCommit: async (trx, done) => {
          // A composite's answer before its selections ran is partial: they run again when it is read.
          if (
            !(await completeRecord(
              trx,
              claim.id,
              claim.owner,
              answerOf(done, done.replayState !== undefined),
              done.replayState,
              iso(),
            ))
          )
            throw claimLost();
          storedWithWrites = true;
        },
      });
    } catch (err) {
      await afterFailure(rt, claim, err, requestId);
      throw err;
    }
    if (storedWithWrites) {
      // A composite's whole answer (with its selections) replaces the partial one stored with its writes.
      if (result.replayState !== undefined) await finalizeAnswer(knex, claim.id, claim.owner, answerOf(result));
    } else if (result.status >= 500 && claim.kind === 'sync') {
      await dropRecord(knex, claim.id, claim.owner);
    } else {
      await completeRecord(
        knex,
        claim.id,
        claim.owner,
        answerOf(result),
        result.replayState,
        iso(),
        result.status >= 500,
      );
    }
    return result;
  } finally {
    clearInterval(lease);
  }
}

/** A stored answer, completed by the operation's replay when it has one (a composite's selections run again). */
export async function replayAnswer(
  rt: Runtime,
  c: CompiledOp,
  caller: Caller,
  input: OpInput,
  answer: StoredAnswer,
  record: RequestRecord,
  requestId: string,
  unknown: UnknownElements | undefined,
): Promise<OpResult> {
  if (!c.op.replay || record.replay_state === null || answer.status >= 300) return resultOf(answer);
  const ctx = {
    db: rt.pool,
    caller,
    services: rt.services,
    reservations: new IdReservations(),
    inComposite: false,
    requestId,
    unknown,
  };
  return c.op.replay(ctx, input, answer, JSON.parse(record.replay_state));
}
