// Owns the bench's HTTP side: one keep-alive undici connection, the composite body of N subrequests,
// and the same N operations sent as separate requests. Every non-2xx answer fails the bench.
import { Client } from 'undici';

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export class BenchClient {
  private readonly client: Client;

  constructor(
    origin: string,
    private readonly authorization: string,
  ) {
    this.client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60000, keepAliveMaxTimeout: 600000 });
  }

  /** Sends one request and reads the whole response; `text` is parsed only by callers that need it. */
  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
  ): Promise<{ status: number; text: string; serverTiming?: string }> {
    const res = await this.client.request({
      method,
      path,
      headers: {
        authorization: this.authorization,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 500)}`);
    const serverTiming = res.headers['server-timing'];
    return { status: res.statusCode, text, serverTiming: typeof serverTiming === 'string' ? serverTiming : undefined };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** What the composite writes, shared with the floor so both write the same rows. */
export const ACTIVITY_SUBJECT = 'Call the insured about the claim';
export const noteText = (i: number) => `Follow-up note ${i}: left a voicemail, will call again tomorrow.`;

const ACTIVITY = { data: { attributes: { subject: ACTIVITY_SUBJECT, priority: { code: 'high' } } } };
const note = (i: number) => ({ data: { attributes: { body: noteText(i) } } });

/** One composite of N subrequests: 1 POST activity + N−1 POST notes under `${activityId}`. */
export function compositeBody(n: number): string {
  const requests: unknown[] = [
    {
      method: 'post',
      uri: '/common/v1/activities',
      body: ACTIVITY,
      vars: [{ name: 'activityId', path: '$.data.attributes.id' }],
    },
  ];
  for (let i = 1; i < n; i++)
    requests.push({ method: 'post', uri: '/common/v1/activities/${activityId}/notes', body: note(i) });
  return JSON.stringify({ requests });
}

export const COMPOSITE_PATH = '/rest/composite/v1/composite';

export async function sendComposite(c: BenchClient, body: string): Promise<void> {
  await c.request('POST', COMPOSITE_PATH, body);
}

/** Where one composite's time goes, in ms: seen by the client, and the server's own Server-Timing split. */
export interface CompositeSplit {
  client: number;
  handler: number;
  subrequests: number;
  /** The inserts the subrequests queued, run together before the commit (write-behind, SQLite). */
  writes: number;
  commit: number;
  responseBytes: number;
}

export async function splitComposite(c: BenchClient, body: string): Promise<CompositeSplit> {
  const start = process.hrtime.bigint();
  const res = await c.request('POST', COMPOSITE_PATH, body);
  const client = Number(process.hrtime.bigint() - start) / 1e6;
  const entries = [...(res.serverTiming ?? '').matchAll(/(?:^|,\s*)([\w.]+);dur=([\d.]+)/g)].map(
    (m) => [m[1], Number(m[2])] as const,
  );
  const sum = (pred: (name: string) => boolean) => entries.filter(([n]) => pred(n)).reduce((a, [, ms]) => a + ms, 0);
  return {
    client,
    handler: sum((n) => n === 'total'),
    subrequests: sum((n) => n.startsWith('req.')),
    writes: sum((n) => n === 'writes'),
    commit: sum((n) => n === 'commit'),
    responseBytes: Buffer.byteLength(res.text),
  };
}

/** The same N operations as separate requests, each waiting for the one before (the note needs the id). */
export async function sendSeparate(c: BenchClient, n: number): Promise<void> {
  const created = await c.request('POST', '/rest/common/v1/activities', JSON.stringify(ACTIVITY));
  const id = (JSON.parse(created.text) as { data: { attributes: { id: string } } }).data.attributes.id;
  for (let i = 1; i < n; i++)
    await c.request('POST', `/rest/common/v1/activities/${encodeURIComponent(id)}/notes`, JSON.stringify(note(i)));
}
