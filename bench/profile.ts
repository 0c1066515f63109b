// Owns `node dist/bench/profile.js`: the server under `node --cpu-prof` on a fresh database, one
// workload sent repeatedly (composite of N, default 100), then the hottest functions by self and total time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from './database';
import { startServer } from './server';
import { basicAuth, BenchClient, compositeBody, sendComposite, sendSeparate } from './client';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function frameName(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
}

/** Self and total (inclusive) sample share per function, from a .cpuprofile. */
export function summarize(file: string, top = 30): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const totalHits = prof.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id) as ProfileNode;
    const name = frameName(n);
    let hits = n.hitCount ?? 0;
    self.set(name, (self.get(name) ?? 0) + hits);
    const fresh = !onStack.has(name);
    if (fresh) onStack.add(name);
    for (const c of n.children ?? []) hits += walk(c, onStack);
    if (fresh) {
      onStack.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + hits);
    }
    return hits;
  };
  walk(prof.nodes[0].id, new Set());
  const pct = (h: number) => `${((100 * h) / totalHits).toFixed(1).padStart(5)}%`;
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `samples: ${totalHits}`,
    'self time:',
    ...rank(self).map(([k, h]) => `  ${pct(h)}  ${k}`),
    'total time (functions of the server, src/):',
    ...rank(new Map([...inclusive].filter(([k]) => k.includes('/src/')))).map(([k, h]) => `  ${pct(h)}  ${k}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const n = Number(process.env.PROFILE_N || 100);
  const iterations = Number(process.env.PROFILE_ITERATIONS || 300);
  const separate = process.env.PROFILE_SEPARATE === '1';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-prof-'));
  const db = await freshDatabase(process.env.DATABASE_URL);
  const adminPassword = randomBytes(12).toString('hex');
  const server = await startServer(
    { DATABASE_URL: db.url, ADMIN_PASSWORD: adminPassword, LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'info' },
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${Number(process.env.PROFILE_INTERVAL_US || 1000)}`],
  );
  const client = new BenchClient(server.origin, basicAuth('admin', adminPassword));
  try {
    const body = compositeBody(n);
    for (let i = 0; i < iterations; i++) await (separate ? sendSeparate(client, n) : sendComposite(client, body));
  } finally {
    await client.close();
    await server.stop();
    await db.drop();
  }
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the server wrote no profile');
  process.stdout.write(`${summarize(path.join(dir, file))}\nprofile: ${path.join(dir, file)}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`profile failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
