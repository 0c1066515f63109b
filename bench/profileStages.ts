// Owns `node dist/bench/profileStages.js`: where composite(N)'s server time goes, stage by stage. The
// server runs under `node --cpu-prof` on a fresh database, is warmed up with a short load, then gets
// PROFILE_ITERATIONS (1000) composites of PROFILE_N (100) one after another; each CPU sample is charged
// to the innermost frame on its stack that belongs to a stage (helmet, authentication, body parsing,
// validation, routing, logging, metrics, durable check, serialisation, database, …), and the stages are
// printed as milliseconds per composite next to what the client saw.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from './database';
import { startServer } from './server';
import { basicAuth, BenchClient, compositeBody, sendComposite } from './client';
import { runThroughput } from './throughput';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Stages in the order a request meets them; a frame matching `test` belongs to the stage. */
const STAGES: Array<{ stage: string; test: (fn: string, url: string) => boolean }> = [
  { stage: 'helmet and Cache-Control', test: (_f, u) => /node_modules\/helmet\/|src\/http\/security/.test(u) },
  { stage: 'authentication (Basic)', test: (_f, u) => /src\/http\/authenticate|src\/auth\//.test(u) },
  {
    stage: 'request log (pino, request id)',
    test: (_f, u) =>
      /node_modules\/(pino|sonic-boom|thread-stream|fast-redact|quick-format-unescaped)\/|src\/http\/requestLog|src\/logger/.test(
        u,
      ),
  },
  {
    stage: 'metrics (middleware, observer)',
    test: (_f, u) => /node_modules\/prom-client\/|src\/http\/metrics|src\/observe/.test(u),
  },
  {
    stage: 'body read and JSON parse',
    test: (_f, u) =>
      /node_modules\/(raw-body|body-parser|iconv-lite|secure-json-parse|type-is|content-type|bytes)\/|src\/http\/body/.test(
        u,
      ),
  },
  {
    stage: 'validation (ajv)',
    test: (f, u) =>
      /node_modules\/ajv/.test(u) ||
      /src\/api\/validate|src\/composite\/schemas/.test(u) ||
      (u === '' && /^validate\d+$/.test(f)),
  },
  { stage: 'durable wrapper (Idempotency-Key / async check)', test: (_f, u) => /src\/durable\//.test(u) },
  {
    stage: 'serialisation (JSON out, Server-Timing)',
    test: (f, u) => /src\/http\/json|src\/composite\/respond|src\/composite\/render/.test(u) || f === 'stringify',
  },
  {
    stage: 'database (knex, driver, SQL)',
    test: (_f, u) => /node_modules\/(knex|better-sqlite3|pg|pg-protocol|pg-pool|tarn)\/|src\/db\//.test(u),
  },
  {
    stage: 'composite: parse, plan, variables',
    test: (_f, u) => /src\/composite\/(parse|plan|vars|operation)/.test(u),
  },
  {
    stage: 'composite execute and resource handlers',
    test: (_f, u) => /src\/composite\/execute|src\/resources\/|src\/api\/(operation|runAlone|dispatch)/.test(u),
  },
  {
    stage: 'routing (Express, router, route table)',
    test: (_f, u) =>
      /node_modules\/(express|router|finalhandler|on-finished|send|path-to-regexp|parseurl|qs)\/|src\/http\/routes|src\/api\/(match|resolve|nul|requestOptions|headers)/.test(
        u,
      ),
  },
  { stage: 'other server code (src/)', test: (_f, u) => /\/dist\/src\//.test(u) },
  { stage: 'Node HTTP, sockets, streams', test: (_f, u) => /^node:/.test(u) },
  { stage: 'garbage collector', test: (f) => f === '(garbage collector)' },
  { stage: 'idle', test: (f) => f === '(idle)' },
];

/**
 * Milliseconds per stage between `fromUs` and `toUs` (CLOCK_MONOTONIC microseconds: V8 stamps its samples
 * on the clock process.hrtime reads), each sample charged to its innermost stage frame.
 */
export function stageTimes(file: string, fromUs: number, toUs: number): Map<string, number> {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const stageOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    const n = byId.get(id) as ProfileNode;
    const hit = STAGES.find((s) => s.test(n.callFrame.functionName, n.callFrame.url));
    const p = parent.get(id);
    const stage = hit ? hit.stage : p === undefined ? `other (${n.callFrame.functionName || 'anonymous'})` : resolve(p);
    stageOf.set(id, stage);
    return stage;
  };
  const ms = new Map<string, number>();
  let at = prof.startTime;
  prof.samples.forEach((id, i) => {
    at += prof.timeDeltas[i];
    if (at < fromUs || at > toUs) return;
    const stage = resolve(id);
    ms.set(stage, (ms.get(stage) ?? 0) + (prof.timeDeltas[i + 1] ?? 0) / 1000);
  });
  return ms;
}

/** The one .cpuprofile a stopped server child wrote into `dir`. */
function cpuProfileIn(dir: string): string {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (names.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${names.length}`);
  return path.join(dir, names[0]);
}

async function main(): Promise<void> {
  const n = Number(process.env.PROFILE_N || 100);
  const iterations = Number(process.env.PROFILE_ITERATIONS || 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-stages-'));
  const db = await freshDatabase(process.env.DATABASE_URL);
  const adminPassword = randomBytes(12).toString('hex');
  const server = await startServer(
    { DATABASE_URL: db.url, ADMIN_PASSWORD: adminPassword, LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'info' },
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${Number(process.env.PROFILE_INTERVAL_US || 200)}`],
  );
  const auth = basicAuth('admin', adminPassword);
  const client = new BenchClient(server.origin, auth);
  let clientMs = 0;
  let window = [0, 0];
  try {
    await runThroughput(server.origin, auth, { connections: 16, durationS: 3, n: 10 });
    const body = compositeBody(n);
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await sendComposite(client, body);
    const end = process.hrtime.bigint();
    clientMs = Number(end - start) / 1e6 / iterations;
    window = [Number(start / 1000n), Number(end / 1000n)];
  } finally {
    await client.close();
    await server.stop();
    await db.drop();
  }
  const file = cpuProfileIn(dir);
  const times = stageTimes(file, window[0], window[1]);
  const busy = [...times].filter(([s]) => s !== 'idle').reduce((a, [, v]) => a + v, 0);
  const lines = [
    `composite(${n}) × ${iterations} after a 3 s warm-up load (left out); the client saw ${clientMs.toFixed(3)} ms per composite, the server was busy ${(busy / iterations).toFixed(3)} ms of it`,
    `${'stage'.padEnd(52)}${'ms/composite'.padStart(13)}${'share'.padStart(8)}`,
  ];
  for (const [stage, v] of [...times].sort((a, b) => b[1] - a[1])) {
    lines.push(
      `${stage.padEnd(52)}${(v / iterations).toFixed(3).padStart(13)}${stage === 'idle' ? '' : `${((100 * v) / busy).toFixed(1)}%`.padStart(8)}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\nprofile: ${file}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`profileStages failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
