// Helpers shared by the durable-request tests: reading an asynchronous call's record until it is complete.
import type { TestApp, Who } from '../helpers/testApp';

type Http = TestApp['http'];

/** Polls GET /rest<location> until the record is complete (jest's time-out bounds it). */
export async function pollComplete(http: Http, auth: string, location: string): Promise<Record<string, unknown>> {
  for (;;) {
    const res = await http.get(`/rest${location}`).set('Authorization', auth);
    if (res.status !== 200) throw new Error(`record ${location}: ${res.status}`);
    const attributes = res.body.data.attributes;
    if (attributes.status.code === 'complete') return attributes;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends a write with Prefer: respond-async (and optional headers). */
export function sendAsync(
  t: TestApp,
  method: 'post' | 'patch' | 'delete',
  path: string,
  body?: unknown,
  who: Who = 'user',
  headers: Record<string, string> = {},
) {
  const req = t.http[method](path)
    .set('Authorization', t.auth(who))
    .set('Prefer', headers.Prefer ?? 'respond-async');
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return body === undefined ? req : req.send(body as object);
}
