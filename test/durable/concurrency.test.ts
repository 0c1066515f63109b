// ASYNC_CONCURRENCY over HTTP: asynchronous calls to a slow upstream (connector executions) — the
// upstream itself counts how many arrive at once from the worker.
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from '../connectors/upstream';
import { pollComplete, sendAsync } from './helpers';

let t: TestApp;
let upstream: Upstream;
let inFlight = 0;
let most = 0;

beforeAll(async () => {
  upstream = await startUpstream((_req, res) => {
    inFlight++;
    most = Math.max(most, inFlight);
    setTimeout(() => {
      inFlight--;
      json(res, 200, { ok: true });
    }, 300);
  });
  const registry = path.join(tempDir(), 'connectors_registry.json');
  writeJson(registry, {
    connectors: [{ name: 'Slow', permalink: 'slow', method: 'POST', url: `${upstream.url}/slow` }],
  });
  t = await startTestApp({
    CONNECTORS_REGISTRY: registry,
    CONNECTORS_ALLOWED_HOSTS: upstream.host,
    ASYNC_CONCURRENCY: '2',
  });
});
afterAll(async () => {
  await t.close();
  await upstream.close();
});

test('six asynchronous calls with ASYNC_CONCURRENCY=2: two run at a time, all complete', async () => {
  const accepted = await Promise.all(
    Array.from({ length: 6 }, () => sendAsync(t, 'post', '/rest/connectors/v1/connectors/slow/execute', {})),
  );
  expect(accepted.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
  for (const r of accepted)
    expect((await pollComplete(t.http, t.auth('user'), r.headers['gw-async-location'])).responseStatus).toBe(200);
  expect(upstream.requests).toHaveLength(6);
  expect(most).toBe(2);
});
