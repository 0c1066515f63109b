// SPEC §7: a crash (kill -9) at any moment loses no committed composite and leaves no partial one.
import { basic } from '../helpers/testApp';
import { buildServer, startServer } from '../helpers/serverProcess';
import { freshDatabase } from '../helpers/database';
import { loadConfig } from '../../src/config';
import { createKnex } from '../../src/db/knex';

const NOTES = 20;
const ADMIN = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'crash-test-pw' };

describe('kill -9 during a stream of composites', () => {
  let entry: string;
  beforeAll(() => {
    entry = buildServer();
  }, 120000);

  test('every composite answered 200 is there in full, and no composite is there in part', async () => {
    const db = await freshDatabase();
    const env = { DATABASE_URL: db.url, ...ADMIN };
    const server = await startServer(entry, env);
    const auth = basic(ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD);
    const committed: string[] = [];
    let sent = 0;
    const send = async (i: number) => {
      const subject = `crash-${i}`;
      const body = {
        requests: [
          {
            method: 'post',
            uri: '/common/v1/activities',
            body: { data: { attributes: { subject } } },
            vars: [{ name: 'a', path: '$.data.attributes.id' }],
            includeResponse: false,
          },
          ...Array.from({ length: NOTES }, (_, j) => ({
            method: 'post',
            uri: '/common/v1/activities/${a}/notes',
            body: { data: { attributes: { body: `n${j}` } } },
            includeResponse: false,
          })),
        ],
      };
      const res = await fetch(`http://127.0.0.1:${server.port}/rest/composite/v1/composite`, {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status === 200) committed.push(subject);
    };
    // Four clients keep the server busy; the kill lands after a number of commits, mid-stream.
    const clients = Array.from({ length: 4 }, async () => {
      for (;;) {
        const i = sent++;
        try {
          await send(i);
        } catch {
          return; // the server died
        }
      }
    });
    while (committed.length < 30) await new Promise((r) => setTimeout(r, 5));
    server.child.kill('SIGKILL');
    await Promise.all(clients);
    await server.exited;

    // Restart on the same file: recovery must run and the server must serve again.
    const again = await startServer(entry, env);
    const health = await fetch(`http://127.0.0.1:${again.port}/healthz`);
    expect(health.status).toBe(200);
    again.child.kill('SIGTERM');
    await again.exited;

    const knex = createKnex(loadConfig({ DATABASE_URL: db.url }).database);
    try {
      const rows: Array<{ subject: string; notes: number }> = await knex('activities as a')
        .leftJoin('notes as n', 'n.activity_id', 'a.id')
        .groupBy('a.id', 'a.subject')
        .select('a.subject', knex.raw('count(n.id) as notes'));
      const present = new Map(rows.map((r) => [r.subject, Number(r.notes)]));
      for (const subject of committed) expect(present.get(subject)).toBe(NOTES);
      for (const [, notes] of present) expect(notes).toBe(NOTES);
      expect(present.size).toBeGreaterThanOrEqual(committed.length);
    } finally {
      await knex.destroy();
      await db.drop();
    }
  }, 120000);
});
