// Owns the bench's requests to the newer APIs (batch, Idempotency-Key, Prefer: respond-async and the
// async record, /metrics): one keep-alive undici connection that sends extra headers and returns the
// answer's headers. Every answer outside the expected statuses fails the bench.
import { Client } from 'undici';
import { ACTIVITY_SUBJECT, COMPOSITE_PATH, noteText } from './client';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class ApiClient {
  private readonly client: Client;

  constructor(
    origin: string,
    private readonly authorization: string,
  ) {
    this.client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60000, keepAliveMaxTimeout: 600000 });
  }

  async send(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    headers: Record<string, string> = {},
    ok: (status: number) => boolean = (s) => s < 300,
  ): Promise<Answer> {
    const res = await this.client.request({
      method,
      path,
      headers: {
        authorization: this.authorization,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body,
    });
    const text = await res.body.text();
    if (!ok(res.statusCode)) throw new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 500)}`);
    return { status: res.statusCode, headers: res.headers, text };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

const NOTE = (i: number) => ({ data: { attributes: { body: noteText(i) } } });

/** Creates the activity the batch and separate-notes workloads write their notes under; returns its id. */
export async function createActivity(c: ApiClient): Promise<string> {
  const res = await c.send(
    'POST',
    '/rest/common/v1/activities',
    JSON.stringify({ data: { attributes: { subject: ACTIVITY_SUBJECT, priority: { code: 'high' } } } }),
  );
  return (JSON.parse(res.text) as { data: { attributes: { id: string } } }).data.attributes.id;
}

/** A batch of N note POSTs under one activity (a batch has no variables, so the activity exists already). */
export function batchBody(activityId: string, n: number): string {
  const requests = Array.from({ length: n }, (_, i) => ({
    method: 'post',
    path: `/activities/${activityId}/notes`,
    body: NOTE(i + 1),
  }));
  return JSON.stringify({ requests });
}

export async function sendBatch(c: ApiClient, body: string): Promise<void> {
  const res = await c.send('POST', '/rest/common/v1/batch?includeResponseHeaders=none', body);
  const failed = (JSON.parse(res.text) as { responses: Array<{ status?: number }> }).responses.filter(
    (r) => r.status !== 201,
  );
  if (failed.length > 0) throw new Error(`batch: ${failed.length} subrequests did not answer 201`);
}

/** The same N note POSTs as separate requests, one after another. */
export async function sendSeparateNotes(c: ApiClient, activityId: string, n: number): Promise<void> {
  const path = `/rest/common/v1/activities/${encodeURIComponent(activityId)}/notes`;
  for (let i = 0; i < n; i++) await c.send('POST', path, JSON.stringify(NOTE(i + 1)));
}

let keySeq = 0;

/** A composite with a fresh Idempotency-Key each time: the first call, which runs and stores its answer. */
export async function sendKeyedComposite(c: ApiClient, body: string, path = COMPOSITE_PATH): Promise<void> {
  await c.send('POST', path, body, { 'idempotency-key': `bench-${process.pid}-${Date.now()}-${keySeq++}` });
}

export interface AsyncTimes {
  acceptedMs: number;
  completeMs: number;
}

/** Sends the composite with Prefer: respond-async, then polls its record until it is complete. */
export async function sendAsyncComposite(c: ApiClient, body: string, pollMs: number): Promise<AsyncTimes> {
  const start = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - start) / 1e6;
  const accepted = await c.send('POST', COMPOSITE_PATH, body, { prefer: 'respond-async' }, (s) => s === 202);
  const acceptedMs = since();
  const location = accepted.headers['gw-async-location'];
  if (typeof location !== 'string') throw new Error('202 without GW-Async-Location');
  for (;;) {
    const record = await c.send('GET', `/rest${location}`);
    const attrs = (
      JSON.parse(record.text) as { data: { attributes: { status: { code: string }; responseStatus?: number } } }
    ).data.attributes;
    if (attrs.status.code === 'complete') {
      if (attrs.responseStatus !== 200) throw new Error(`async composite completed with ${attrs.responseStatus}`);
      return { acceptedMs, completeMs: since() };
    }
    if (pollMs > 0) await new Promise((r) => setTimeout(r, pollMs));
  }
}
