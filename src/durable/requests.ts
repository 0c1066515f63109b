// Owns durable calls at the HTTP-handler level: Idempotency-Key (the key checked and the answer kept
// with the writes — src/durable/keyed.ts — or, for a batch or connector execution, the key claimed
// first; the stored answer replayed, 409 while running, 422 for another request) and Prefer:
// respond-async (checked, stored, 202; src/durable/asyncCalls.ts). Every write passes through here.
import { randomUUID } from 'node:crypto';
import { authorize, validateInput, type CompiledOp, type RawInput } from '../api/dispatch';
import type { Caller, OpResult, Runtime } from '../api/operation';
import { runAlone, type RunOptions } from '../api/runAlone';
import { errors } from '../errors';
import { asyncPreference, fingerprint, idempotencyKey, type AsyncPreference } from './headers';
import {
  expireKey,
  findById,
  findByKey,
  insertRecord,
  newRecordId,
  takeOver,
  type NewRecord,
  type RequestRecord,
} from './records';
import { answerOfRecord } from './storedAnswer';
import { iso, LEASE_MS, replayAnswer, runClaimed } from './run';
import type { AsyncWorker } from './worker';
import { AsyncCalls, storedRequest } from './asyncCalls';
import { answerFromHeld, answersInItsTransaction, KeyedCalls, type KeyedCall, type Replay } from './keyed';

export interface CallMeta {
  /** The HTTP method and the request uri as received (with /rest and the query string). */
  method: string;
  uri: string;
  body: Buffer | undefined;
  requestId: string;
}

export class DurableRequests {
  /** The asynchronous worker, started and stopped by whoever creates the app. */
  get worker(): AsyncWorker {
    return this.asyncCalls.worker;
  }

  private readonly keyed: KeyedCalls;
  private readonly asyncCalls: AsyncCalls;

  constructor(
    private readonly rt: Runtime,
    routeTable: () => CompiledOp[],
  ) {
    this.asyncCalls = new AsyncCalls(rt, routeTable);
    this.keyed = new KeyedCalls(rt, this.replay);
  }

  /**
   * Runs a call from the HTTP handler: as it is, or durably when it carries Idempotency-Key or Prefer:
   * respond-async. `opts` are the request's own run options, passed on to `runAlone`.
   */
  async call(c: CompiledOp, caller: Caller, raw: RawInput, meta: CallMeta, opts: RunOptions = {}): Promise<OpResult> {
    // A dry run is never stored (no answer to replay, nothing to run later): it runs at once and rolls back.
    if (c.op.method === 'get' || opts.dryRun) return runAlone(c, this.rt, caller, raw, meta.requestId, opts);
    const key = idempotencyKey(raw.headers);
    const prefer = asyncPreference(raw.headers.prefer);
    if (key === undefined && !prefer) return runAlone(c, this.rt, caller, raw, meta.requestId, opts);
    // Everything that needs no data is refused before a record exists (and before a 202).
    authorize(c.op, caller);
    const input = validateInput(c, { ...raw, query: { ...raw.query } }, opts.unknown);
    c.op.check?.(this.rt.services, input, opts.unknown);
    const fp = fingerprint(meta.method, meta.uri, meta.body);
    const keyed: KeyedCall = {
      c,
      caller,
      raw,
      input,
      key: key as string,
      fingerprint: fp,
      method: meta.method,
      uri: meta.uri,
      requestId: meta.requestId,
      opts,
    };
    if (!prefer && answersInItsTransaction(c.op)) return this.keyed.call(keyed);
    // Any other operation claims its key first, in a record of its own, and stores its answer after.
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = Date.now();
      const owner = randomUUID();
      const id = newRecordId();
      const inserted = await insertRecord(
        this.rt.pool,
        this.newRecord(c, caller, raw, meta, { id, owner, now, key, fp, prefer }),
      );
      if (inserted) {
        if (prefer) return this.asyncCalls.accepted(id, prefer);
        return runClaimed(this.rt, c, caller, raw, { id, owner, kind: 'sync' }, meta.requestId, opts);
      }
      const existing = await findByKey(this.rt.pool, caller.username, key as string);
      if (!existing) continue; // purged in between
      if (existing.key_expires !== null && existing.key_expires < iso(now)) {
        await expireKey(this.rt.pool, existing.id, iso(now));
        continue;
      }
      if (existing.fingerprint !== fp || existing.state === 'complete')
        return answerFromHeld(keyed, existing, this.replay);
      // A synchronous call whose runner stopped renewing its lease died before its commit: run it now.
      if (
        existing.kind === 'sync' &&
        (existing.lease_until ?? '') < iso(now) &&
        (await takeOver(this.rt.pool, existing.id, owner, iso(now + LEASE_MS), iso(now)))
      ) {
        return runClaimed(this.rt, c, caller, raw, { id: existing.id, owner, kind: 'sync' }, meta.requestId, opts);
      }
      break;
    }
    throw errors.idempotencyKeyInUse(key as string);
  }

  private newRecord(
    c: CompiledOp,
    caller: Caller,
    raw: RawInput,
    meta: CallMeta,
    r: { id: string; owner: string; now: number; key?: string; fp: string; prefer?: AsyncPreference },
  ): NewRecord {
    const { idempotencyTtlHours, asyncRetentionDays } = this.rt.services.config.durable;
    const keyExpires = iso(r.now + idempotencyTtlHours * 3600000);
    const common = {
      id: r.id,
      caller: caller.username,
      idem_key: r.key ?? null,
      method: meta.method.toUpperCase(),
      request_uri: meta.uri,
      fingerprint: r.fp,
      create_time: iso(r.now),
      key_expires: r.key === undefined ? null : keyExpires,
    };
    // An asynchronous call waits for the worker; a synchronous one is claimed by this call at once.
    if (r.prefer)
      return {
        ...common,
        kind: 'async',
        request: storedRequest(c, caller, raw),
        state: 'accepted',
        owner: null,
        lease_until: null,
        purge_after: iso(r.now + asyncRetentionDays * 86400000),
      };
    return {
      ...common,
      kind: 'sync',
      request: null,
      state: 'inProgress',
      owner: r.owner,
      lease_until: iso(r.now + LEASE_MS),
      purge_after: keyExpires,
    };
  }

  /** A finished call's answer to a call with its key, marked as replayed. */
  private readonly replay: Replay = async (call, record) => {
    const answer = answerOfRecord(record);
    const { c, caller, input, requestId, opts } = call;
    const result = await replayAnswer(this.rt, c, caller, input, answer, record, requestId, opts.unknown);
    result.headers = { ...result.headers, 'Idempotent-Replayed': 'true' };
    return result;
  };

  /** The stored answer of a complete record, as first given (a partial composite answer is completed). */
  original(record: RequestRecord, requestId: string): Promise<OpResult> {
    return this.asyncCalls.original(record, requestId);
  }

  /** A record by id, read on the pool (records live outside any request's transaction). */
  record(id: string): Promise<RequestRecord | undefined> {
    return findById(this.rt.pool, id);
  }
}
