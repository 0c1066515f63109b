// Owns asynchronous calls (Prefer: respond-async) once accepted: the request as stored to run later,
// the worker's run of a claimed record, a caller waiting (`wait=N`) for its answer, and the original
// answer read back (a partial composite answer completed with its selections).
import { validateInput, type CompiledOp, type RawInput } from '../api/dispatch';
import type { Caller, OpResult, Runtime } from '../api/operation';
import { requestOptions } from '../api/requestOptions';
import { errors } from '../errors';
import type { AsyncPreference } from './headers';
import { completeRecord, findById, type RequestRecord } from './records';
import { answerOfRecord } from './storedAnswer';
import { iso, replayAnswer, resultOf, runClaimed } from './run';
import { AsyncWorker } from './worker';

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

export class AsyncCalls {
  readonly worker: AsyncWorker;
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly rt: Runtime,
    private readonly routeTable: () => CompiledOp[],
  ) {
    this.worker = new AsyncWorker(rt, (record) => this.run(record));
  }

  /** The stored answer of a complete record, as first given (a partial composite answer is completed). */
  async original(record: RequestRecord, requestId: string): Promise<OpResult> {
    const answer = answerOfRecord(record);
    if (!answer.partial) return resultOf(answer);
    const stored = this.storedCall(record);
    if (!stored) return resultOf(answer);
    // Its selections run as its sender, whoever reads it, with the sender's unknown-element handling.
    const { unknown } = requestOptions(stored.raw.headers);
    const input = validateInput(stored.c, stored.raw, unknown);
    return replayAnswer(this.rt, stored.c, stored.caller, input, answer, record, requestId, unknown);
  }

  /** 202 with the record's location — or, when it finished within `wait`, its answer. */
  async accepted(id: string, prefer: AsyncPreference): Promise<OpResult> {
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
  private async run(record: RequestRecord): Promise<void> {
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

/** The request of an asynchronous call, as its record keeps it. */
export function storedRequest(c: CompiledOp, caller: Caller, raw: RawInput): string {
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
  return JSON.stringify(req);
}
