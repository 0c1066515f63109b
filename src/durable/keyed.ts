// Owns a synchronous Idempotency-Key call of an operation that writes in one transaction (a direct
// write, a composite): the key is checked first inside that transaction and the answer inserted last
// in it, so the record commits with the writes or not at all. No record exists while the call runs,
// and a call cut off before its commit (kill -9) leaves nothing behind: its retry simply runs.
// "Still running" is decided by this instance's set of running keys and, on PostgreSQL, by an
// advisory lock on the key held by the running transaction (another instance's call).
import type { CompiledOp, RawInput } from '../api/dispatch';
import type { Caller, Operation, OpInput, OpResult, Runtime, StoredAnswer } from '../api/operation';
import { runAlone, type RunOptions } from '../api/runAlone';
import { rememberJson } from '../api/serialisedBody';
import { CommitInsertFailed, dbErrorCode, mapDbError } from '../db/errors';
import type { DbHandle } from '../db/exec';
import { isSqlite } from '../db/knex';
import { ApiError, errors } from '../errors';
import {
  answeredRecord,
  dropDead,
  expireKey,
  findByKey,
  insertRecord,
  insertRecordLast,
  lockKeyAndFind,
  type NewRecord,
  type RequestRecord,
} from './records';
import { answerOf, errorAnswer, iso } from './run';

const UNIQUE_VIOLATION = '23505';

export interface KeyedCall {
  c: CompiledOp;
  caller: Caller;
  raw: RawInput;
  /** The input as validated before the call (for a replay's selections). */
  input: OpInput;
  key: string;
  fingerprint: string;
  method: string;
  uri: string;
  requestId: string;
  opts: RunOptions;
}

/** The answer of the record that holds a key, for a call that found it there. */
export type Replay = (call: KeyedCall, record: RequestRecord) => Promise<OpResult>;

/** Another call holds the key (`record` when it has committed): the transaction rolls back. */
class KeyHeld extends Error {
  constructor(readonly record?: RequestRecord) {
    super('Idempotency-Key held by another call');
  }
}

/** Does a keyed call of this operation commit its answer with its writes (rather than claim the key first)? */
export function answersInItsTransaction(op: Operation): boolean {
  return op.transactional || op.commitHooks === true;
}

/**
 * The existing record's answer to a call with its key: another request 422, a finished one replayed,
 * one still running 409.
 */
export function answerFromHeld(call: KeyedCall, record: RequestRecord | undefined, replay: Replay): Promise<OpResult> {
  if (record?.fingerprint !== undefined && record.fingerprint !== call.fingerprint)
    throw errors.idempotencyKeyReused(call.key);
  if (record?.state === 'complete') return replay(call, record);
  throw errors.idempotencyKeyInUse(call.key);
}

/** Whether `a` serialises as `b`: the same object, or objects with the same values under the same keys. */
function sameFields(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a === 'object' && a !== null;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== other[i] || (a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  }
  return true;
}

export class KeyedCalls {
  /** Keys of this instance's calls running now: caller and key. */
  private readonly running = new Set<string>();

  constructor(
    private readonly rt: Runtime,
    private readonly replay: Replay,
  ) {}

  async call(call: KeyedCall): Promise<OpResult> {
    const slot = `${call.caller.username}\n${call.key}`;
    if (this.running.has(slot)) throw errors.idempotencyKeyInUse(call.key);
    this.running.add(slot);
    try {
      return await this.run(call, slot);
    } finally {
      this.running.delete(slot);
    }
  }

  private async run(call: KeyedCall, slot: string): Promise<OpResult> {
    /** The body stored with the writes and its JSON, once the record is in the transaction. */
    let stored: { body: unknown; json?: string } | undefined;
    try {
      const result = await runAlone(call.c, this.rt, call.caller, call.raw, call.requestId, {
        ...call.opts,
        validated: call.input,
        atBegin: (trx) => this.check(trx, call, slot),
        beforeCommit: async (trx, done) => {
          // A composite's answer before its selections ran: they run again when it is replayed.
          const answer = answerOf(done, done.replayState !== undefined);
          const json = answer.body === undefined ? undefined : JSON.stringify(answer.body);
          if (!(await insertRecordLast(trx, this.record(call, answer, done, json))))
            throw new KeyHeld(await findByKey(trx, call.caller.username, call.key));
          stored = { body: answer.body, json };
        },
      });
      if (stored) {
        // The answer sent is the one stored (a composite without selections): serialised once.
        if (stored.json !== undefined && sameFields(result.body, stored.body))
          rememberJson(result.body as object, stored.json);
        return result;
      }
      // An answer that did not commit with writes: a composite that wrote nothing, or one that failed
      // and rolled back (its error is kept for its retry). A 5xx is not kept: its retry runs again.
      if (result.status < 500) {
        const held = await this.storeAfter(call, answerOf(result), result.replayState);
        if (held) return answerFromHeld(call, held, this.replay);
      }
      return result;
    } catch (err) {
      if (err instanceof KeyHeld) return answerFromHeld(call, err.record, this.replay);
      // The record went with COMMIT and found the key taken: another instance committed it first.
      if (err instanceof CommitInsertFailed && dbErrorCode(err.cause) === UNIQUE_VIOLATION)
        return answerFromHeld(call, await findByKey(this.rt.pool, call.caller.username, call.key), this.replay);
      const mapped = mapDbError(err);
      if (mapped instanceof ApiError && mapped.status < 500) {
        const held = await this.storeAfter(call, errorAnswer(mapped));
        if (held) return answerFromHeld(call, held, this.replay);
      }
      throw err;
    }
  }

  /**
   * First inside the call's transaction: the key must be free. An expired key is freed; a record left
   * in progress by a runner that died before its commit (an operation that claims its key first) is
   * dropped; any other record answers the call.
   */
  private async check(trx: DbHandle, call: KeyedCall, slot: string): Promise<void> {
    let existing: RequestRecord | undefined;
    if (isSqlite(this.rt.pool)) existing = await findByKey(trx, call.caller.username, call.key);
    else {
      // Held by the transaction of a call running on another instance; released when it ends.
      const found = await lockKeyAndFind(trx, slot, call.caller.username, call.key);
      if (!found.free) throw new KeyHeld();
      existing = found.record;
    }
    if (!existing) return;
    const now = iso();
    if (existing.key_expires !== null && existing.key_expires < now) return expireKey(trx, existing.id, now);
    if (existing.fingerprint === call.fingerprint && (await dropDead(trx, existing.id, now))) return;
    throw new KeyHeld(existing);
  }

  /** Keeps an answer given outside a transaction; the record holding the key instead, if one does. */
  private async storeAfter(
    call: KeyedCall,
    answer: StoredAnswer,
    replayState?: unknown,
  ): Promise<RequestRecord | undefined> {
    const { pool, services } = this.rt;
    try {
      if (await insertRecord(pool, this.record(call, answer, { replayState }))) return undefined;
      return await findByKey(pool, call.caller.username, call.key);
    } catch (storeErr) {
      services.logger.warn(
        { reqId: call.requestId, error: (storeErr as Error)?.name },
        'could not store the answer of an Idempotency-Key request',
      );
      return undefined;
    }
  }

  private record(call: KeyedCall, answer: StoredAnswer, done: { replayState?: unknown }, bodyJson?: string): NewRecord {
    return answeredRecord({
      caller: call.caller.username,
      key: call.key,
      method: call.method,
      uri: call.uri,
      fingerprint: call.fingerprint,
      ttlHours: this.rt.services.config.durable.idempotencyTtlHours,
      answer,
      bodyJson,
      replayState: done.replayState,
    });
  }
}
