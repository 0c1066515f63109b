// Durable requests across kill -9 (SPEC §8): a call whose answer was lost is recovered by retrying
// with its Idempotency-Key, and an accepted asynchronous call completes exactly once after a restart.
import path from 'node:path';
import { basic } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson } from '../connectors/upstream';
import { buildServer, startServer, type ServerProcess } from '../helpers/serverProcess';
import { freshDatabase, type FreshDatabase } from '../helpers/database';
import { loadConfig } from '../../src/config';
import { createKnex } from '../../src/db/knex';

const NOTES = 5;
const ADMIN = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'crash-test-pw' };
const auth = basic(ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than it takes to accept 30 composites on a busy machine, shorter than CONNECTOR_TIMEOUT_MS. */
const SLOW_MS = 8000;

function compositeBody(subject: string) {
  return {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      ...Array.from({ length: NOTES }, (_, j) => ({
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: `n${j}` } } },
        includeResponse: false,
      })),
    ],
  };
}

function send(server: ServerProcess, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: path.endsWith('/response') || path.includes('/async/') ? 'GET' : 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Each subject's activities and their notes, as committed. */
async function committed(db: FreshDatabase): Promise<Map<string, number[]>> {
  const knex = createKnex(loadConfig({ DATABASE_URL: db.url }).database);
  try {
    const rows: Array<{ subject: string; notes: number }> = await knex('activities as a')
      .leftJoin('notes as n', 'n.activity_id', 'a.id')
      .groupBy('a.id', 'a.subject')
      .select('a.subject', knex.raw('count(n.id) as notes'));
    const out = new Map<string, number[]>();
    for (const r of rows) out.set(r.subject, [...(out.get(r.subject) ?? []), Number(r.notes)]);
    return out;
  } finally {
    await knex.destroy();
  }
}

async function states(db: FreshDatabase): Promise<string[]> {
  const knex = createKnex(loadConfig({ DATABASE_URL: db.url }).database);
  try {
    return (await knex('durable_requests').select('state')).map((r: { state: string }) => r.state);
  } finally {
    await knex.destroy();
  }
}

describe('kill -9 and durable requests', () => {
  let entry: string;
  beforeAll(() => {
    entry = buildServer();
  }, 120000);

  test('composites with Idempotency-Key: after kill -9 and a restart, a retry of every key gets the stored answer, and each ran exactly once', async () => {
    const db = await freshDatabase();
    const env = { DATABASE_URL: db.url, ...ADMIN };
    const server = await startServer(entry, env);
    const answered = new Map<number, unknown>();
    let sent = 0;
    const clients = Array.from({ length: 4 }, async () => {
      for (;;) {
        const i = sent++;
        try {
          const res = await send(server, '/rest/composite/v1/composite', compositeBody(`key-crash-${i}`), {
            'Idempotency-Key': `k-${i}`,
          });
          if (res.status === 200) answered.set(i, await res.json());
        } catch {
          return; // the server died
        }
      }
    });
    while (answered.size < 15) await sleep(5);
    server.child.kill('SIGKILL');
    await Promise.all(clients);
    await server.exited;

    const again = await startServer(entry, env);
    try {
      for (let i = 0; i < sent; i++) {
        // A composite cut off before its commit left no record (its answer commits with its writes):
        // its retry runs at once, with no lease to wait out.
        const res = await send(again, '/rest/composite/v1/composite', compositeBody(`key-crash-${i}`), {
          'Idempotency-Key': `k-${i}`,
        });
        expect(res.status).toBe(200);
        const body = await res.json();
        if (answered.has(i)) {
          expect(res.headers.get('idempotent-replayed')).toBe('true');
          expect(body).toEqual(answered.get(i));
        }
      }
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
    const present = await committed(db);
    for (let i = 0; i < sent; i++) expect(present.get(`key-crash-${i}`)).toEqual([NOTES]);
    expect((await states(db)).every((s) => s === 'complete')).toBe(true);
    await db.drop();
  }, 180000);

  test('asynchronous composites: kill -9 after the 202s, before they ran; after a restart each completes exactly once', async () => {
    // The worker's one slot is held by a slow connector call, so the composites are still waiting when the server dies.
    const upstream = await startUpstream((_req, res) => void setTimeout(() => json(res, 200, { slow: true }), SLOW_MS));
    const registry = path.join(tempDir(), 'connectors_registry.json');
    writeJson(registry, {
      connectors: [{ name: 'Slow', permalink: 'slow', method: 'POST', url: `${upstream.url}/slow` }],
    });
    const db = await freshDatabase();
    const env = {
      DATABASE_URL: db.url,
      ASYNC_CONCURRENCY: '1',
      CONNECTORS_REGISTRY: registry,
      CONNECTORS_ALLOWED_HOSTS: upstream.host,
      ...ADMIN,
    };
    const server = await startServer(entry, env);
    const slow = await send(server, '/rest/connectors/v1/connectors/slow/execute', {}, { Prefer: 'respond-async' });
    expect(slow.status).toBe(202);
    const slowLocation = slow.headers.get('gw-async-location') as string;
    while (
      (await (await send(server, `/rest${slowLocation}`, undefined, {})).json()).data.attributes.status.code !==
      'inProgress'
    )
      await sleep(20);
    const accepted = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        send(server, '/rest/composite/v1/composite', compositeBody(`async-crash-${i}`), { Prefer: 'respond-async' }),
      ),
    );
    server.child.kill('SIGKILL');
    await server.exited;
    expect(accepted.map((r) => r.status)).toEqual(accepted.map(() => 202));
    const locations = accepted.map((r) => r.headers.get('gw-async-location') as string);
    expect((await states(db)).filter((s) => s !== 'complete')).toHaveLength(31);

    const again = await startServer(entry, env);
    try {
      for (const location of [slowLocation, ...locations]) {
        for (;;) {
          const record = await (await send(again, `/rest${location}`, undefined, {})).json();
          if (record.data.attributes.status.code === 'complete') {
            expect(record.data.attributes.responseStatus).toBe(200);
            break;
          }
          await sleep(200);
        }
      }
      const stored = await send(again, `/rest${locations[29]}/response`, undefined, {});
      expect(stored.status).toBe(200);
      expect((await stored.json()).responses[0].body.data.attributes.subject).toBe('async-crash-29');
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
      await upstream.close();
    }
    const present = await committed(db);
    for (let i = 0; i < 30; i++) expect(present.get(`async-crash-${i}`)).toEqual([NOTES]);
    await db.drop();
  }, 180000);
});
