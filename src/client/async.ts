// Owns the client side of asynchronous calls: the handle a call sent with `async: true` resolves to,
// and waiting for its result by polling the record the server keeps.
import { errorFor } from './errors';

/** The record of an asynchronous call (GET /rest/async/v1/requests/{id}). */
export interface AsyncRecord {
  id: string;
  status: { code: 'accepted' | 'inProgress' | 'complete'; name: string };
  requestMethod: string;
  requestUri: string;
  responseStatus?: number;
  createTime: string;
  completeTime?: string;
}

/** One HTTP exchange as the client saw it. */
export interface Exchange {
  status: number;
  headers: Headers;
  data: unknown;
}

export interface WaitOptions {
  /** Between two looks at the record; default 500 ms. */
  intervalMs?: number;
  /** Give up (reject) after this long; default 5 minutes. */
  timeoutMs?: number;
}

export type Fetcher = (method: string, path: string) => Promise<Exchange>;

/**
 * A call sent with `Prefer: respond-async`: `id` and `location` when the server accepted it (202), or
 * already `done` when it finished within `wait`. `waitForResult()` resolves to what the synchronous
 * call would have resolved to, and rejects with the same typed errors.
 */
export class AsyncCall<T> {
  readonly id: string | undefined;

  constructor(
    private readonly fetcher: Fetcher,
    readonly location: string | undefined,
    private readonly answered?: Exchange,
  ) {
    this.id = location?.split('/').pop();
  }

  get done(): boolean {
    return this.answered !== undefined;
  }

  async record(): Promise<AsyncRecord> {
    if (!this.id) throw new Error('This call was answered at once; it has no record');
    const res = await this.fetcher('GET', `/rest/async/v1/requests/${encodeURIComponent(this.id)}`);
    if (res.status !== 200) throw errorFor(res.status, res.data);
    return (res.data as { data: { attributes: AsyncRecord } }).data.attributes;
  }

  async waitForResult(opts: WaitOptions = {}): Promise<T> {
    const intervalMs = opts.intervalMs ?? 500;
    const deadline = Date.now() + (opts.timeoutMs ?? 300000);
    let answer = this.answered;
    while (!answer) {
      if ((await this.record()).status.code === 'complete') {
        answer = await this.fetcher('GET', `/rest/async/v1/requests/${encodeURIComponent(this.id as string)}/response`);
        break;
      }
      if (Date.now() + intervalMs > deadline)
        throw new Error(`Asynchronous request ${this.id} did not complete in time`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    if (answer.status >= 400) throw errorFor(answer.status, answer.data);
    return answer.data as T;
  }
}
