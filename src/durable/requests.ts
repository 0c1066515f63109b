// Owns durable calls at the HTTP-handler level: Idempotency-Key (claim the key, run, replay the stored
// answer, 409 while running, 422 for another request) and Prefer: respond-async (check, store, 202 —
// or the answer when it finished within `wait`). Every write, composite and batch passes through here.
import { randomUUID } from 'node:crypto';
import { authorize, validateInput, type CompiledOp, type RawInput } from '../api/dispatch';
import type { Caller, OpInput, OpResult, Runtime, StoredAnswer } from '../api/operation';
import { requestOptions, type UnknownElements } from '../api/requestOptions';
import { runAlone, type RunOptions } from '../api/runAlone';
import { IdReservations } from '../db/sequences';
import { errors } from '../errors';
import { asyncPreference, fingerprint, idempotencyKey, type AsyncPreference } from './headers';
import {
  completeRecord,
  expireKey,
  findById,
  findByKey,
  insertRecord,
  takeOver,
  type NewRecord,
  type RequestRecord,
} from './records';
import { iso, LEASE_MS, resultOf, runClaimed } from './run';
import { AsyncWorker } from './worker';
import { answerFromHeld, answersInItsTransaction, KeyedCalls, type KeyedCall, type Replay } from './keyed';

export interface CallMeta {
  /** The HTTP method and the request uri as received (with /rest and the query string). */
  method: string;
  uri: string;
  body: Buffer | undefined;
  requestId: string;
}

/** What an asynchronous call keeps to run later. Credentials and the durable headers are left out. */
interface StoredRequest {
  operationId: string;
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  body: unknown;
  rawBody?: string;
}

const NOT_STORED = new Set(['authorization', 'cookie', 'proxy-authorization', 'prefer', 'idempotency-key']);
/** A record claimed this often and never finished (its runs took the server down) is given up. */
const MAX_ATTEMPTS = 5;

export class DurableRequests {
  readonly worker: AsyncWorker;
  private readonly keyed: KeyedCalls;
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly rt: Runtime,
    private readonly routeTable: () => CompiledOp[],
  ) {
    this.worker = new AsyncWorker(rt, (record) => this.runAccepted(record));
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
      const id = randomUUID();
      const inserted = await insertRecord(
        this.rt.pool,
        this.newRecord(c, caller, raw, meta, { id, owner, now, key, fp, prefer }),
      );
      if (inserted) {
        if (prefer) return this.accepted(id, prefer);
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
        request: JSON.stringify(storedRequest(c, caller, raw)),
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

  /** The stored answer of a complete record, as first given (a partial composite answer is completed). */
  async original(record: RequestRecord, requestId: string): Promise<OpResult> {
    const answer = JSON.parse(record.response as string) as StoredAnswer;
    if (!answer.partial) return resultOf(answer);
    const stored = this.storedCall(record);
    if (!stored) return resultOf(answer);
    // Its selections run as its sender, whoever reads it, with the sender's unknown-element handling.
    const { unknown } = requestOptions(stored.raw.headers);
    const input = validateInput(stored.c, stored.raw, unknown);
    return this.replayed(stored.c, stored.caller, input, answer, record, requestId, unknown);
  }

  /** A finished call's answer to a call with its key, marked as replayed. */
  private readonly replay: Replay = async (call, record) => {
    const answer = JSON.parse(record.response as string) as StoredAnswer;
    const { c, caller, input, requestId, opts } = call;
    const result = await this.replayed(c, caller, input, answer, record, requestId, opts.unknown);
    result.headers = { ...result.headers, 'Idempotent-Replayed': 'true' };
    return result;
  };

  private async replayed(
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
      db: this.rt.pool,
      caller,
      services: this.rt.services,
      reservations: new IdReservations(),
      inComposite: false,
      requestId,
      unknown,
    };
    return c.op.replay(ctx, input, answer, JSON.parse(record.replay_state));
  }

  /** A record by id, read on the pool (records live outside any request's transaction). */
  record(id: string): Promise<RequestRecord | undefined> {
    return findById(this.rt.pool, id);
  }

  /** 202 with the record's location — or, when it finished within `wait`, its answer. */
  private async accepted(id: string, prefer: AsyncPreference): Promise<OpResult> {
    this.worker.kick();
    if (prefer.waitSeconds > 0) {
      const record = await this.waitFor(id, prefer.waitSeconds * 1000);
      if (record?.state === 'complete') return this.original(record, id);
    }
    return {
      status: 202,
      headers: { 'GW-Async-Location': `/async/v1/requests/${id}`, 'Preference-Applied': 'respond-async' },
    };
  }

  private async waitFor(id: string, ms: number): Promise<RequestRecord | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const record = await findById(this.rt.pool, id);
      const left = deadline - Date.now();
      if (!record || record.state === 'complete' || left <= 0) return record;
      // Woken by this instance's worker, or checking now and then for another instance's.
      await new Promise<void>((resolve) => {
        const set = this.waiting.get(id) ?? new Set();
        this.waiting.set(id, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) this.waiting.delete(id);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 250));
        set.add(done);
      });
    }
  }

  private storedCall(record: RequestRecord): { c: CompiledOp; caller: Caller; raw: RawInput } | undefined {
    if (record.request === null) return undefined;
    const req = JSON.parse(record.request) as StoredRequest;
    const c = this.routeTable().find((op) => op.op.operationId === req.operationId);
    if (!c) return undefined;
    const raw: RawInput = {
      params: req.params,
      query: req.query,
      body: req.body,
      headers: req.headers,
      rawBody: req.rawBody === undefined ? undefined : Buffer.from(req.rawBody, 'base64'),
    };
    return { c, caller: req.caller, raw };
  }

  /** The worker's run of a claimed asynchronous record. */
  private async runAccepted(record: RequestRecord): Promise<void> {
    const claim = { id: record.id, owner: record.owner as string, kind: 'async' as const };
    try {
      const stored = this.storedCall(record);
      if (!stored && record.attempts <= MAX_ATTEMPTS) {
        // Another version of the server (a rolling deploy) may know the operation: the claim lapses to it.
        this.rt.services.logger.warn(
          { reqId: record.id },
          'asynchronous request for an operation this instance does not have',
        );
        return;
      }
      if (!stored || record.attempts > MAX_ATTEMPTS) {
        const err = stored
          ? errors.internal(record.id)
          : errors.notFound('The operation of this request no longer exists');
        await completeRecord(
          this.rt.pool,
          claim.id,
          claim.owner,
          { status: err.status, headers: {}, body: err.toBody() },
          undefined,
          iso(),
          true,
        );
        return;
      }
      // The sender's GW-Unknown…Handling travels with the stored headers (a dry run is never queued).
      const { unknown } = requestOptions(stored.raw.headers);
      await runClaimed(this.rt, stored.c, stored.caller, stored.raw, claim, record.id, { unknown }).catch(
        (err: unknown) => {
          // The answer is stored; an unexpected error is logged by name only (no SQL or values).
          if (!(err instanceof Error && err.name === 'ApiError'))
            this.rt.services.logger.error(
              { reqId: record.id, error: (err as Error)?.name },
              'unexpected error in an asynchronous request',
            );
        },
      );
      unknown.flush(this.rt.services.logger, record.id);
    } finally {
      for (const wake of [...(this.waiting.get(record.id) ?? [])]) wake();
    }
  }
}

function storedRequest(c: CompiledOp, caller: Caller, raw: RawInput): StoredRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw.headers)) if (!NOT_STORED.has(name)) headers[name] = value;
  const req: StoredRequest = {
    operationId: c.op.operationId,
    caller,
    params: raw.params,
    query: raw.query,
    headers,
    body: raw.body,
  };
  if (raw.rawBody) req.rawBody = raw.rawBody.toString('base64');
  return req;
}
