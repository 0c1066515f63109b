// Owns `node dist/bench/memoryFlags.js`: peak RSS (VmHWM) and throughput of the server under 64 clients
// sending composites of 10 for MEMORY_SECONDS (15), for each variant of V8 settings, each on a fresh
// database and a fresh process — what the heap sizing, not the live objects, costs in resident memory,
// and what bounding it costs in throughput. The variants run in MEMORY_ROUNDS (3) rounds, the order
// rotated every round, so that drift on a shared machine hits all alike; the table shows the median
// throughput and the highest peak over the rounds.
import { randomBytes } from 'node:crypto';
import { freshDatabase } from './database';
import { startScript, startServer, type StartScript } from './server';
import { basicAuth } from './client';
import { runThroughput } from './throughput';
import { median } from './stats';

const START = startScript();
const describe = (v: StartScript) =>
  [...Object.entries(v.env).map(([k, x]) => `${k}=${x}`), ...v.nodeArgs].join(' ') || "Node's defaults";
const VARIANTS: StartScript[] = [
  { env: {}, nodeArgs: [] },
  START,
  ...(
    [
      { env: {}, nodeArgs: ['--max-semi-space-size=4', '--heap-growing-percent=50'] },
      { env: { MALLOC_ARENA_MAX: '2' }, nodeArgs: [] },
      { env: { MALLOC_ARENA_MAX: '2' }, nodeArgs: ['--max-semi-space-size=2', '--heap-growing-percent=50'] },
    ] as StartScript[]
  ).filter((v) => describe(v) !== describe(START)),
];

interface Run {
  peakMiB: number;
  compositesPerS: number;
  p99Ms: number;
}

async function runOnce(variant: StartScript, seconds: number): Promise<Run> {
  const db = await freshDatabase(process.env.DATABASE_URL);
  const password = randomBytes(12).toString('hex');
  const server = await startServer({ DATABASE_URL: db.url, ADMIN_PASSWORD: password, LOG_LEVEL: 'info' }, [], variant);
  try {
    const t = await runThroughput(server.origin, basicAuth('admin', password), {
      connections: 64,
      durationS: seconds,
      n: 10,
    });
    return { peakMiB: server.peakRssMiB() ?? NaN, compositesPerS: t.compositesPerS, p99Ms: t.p99Ms };
  } finally {
    await server.stop();
    await db.drop();
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.env.MEMORY_SECONDS || 15);
  const rounds = Number(process.env.MEMORY_ROUNDS || 3);
  const runs: Run[][] = VARIANTS.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const i = (k + r) % VARIANTS.length;
      runs[i].push(await runOnce(VARIANTS[i], seconds));
      process.stderr.write(`round ${r + 1}: ${describe(VARIANTS[i])} ${JSON.stringify(runs[i].at(-1))}\n`);
    }
  }
  const lines = [
    `64 clients × composites of 10 for ${seconds}s per run, ${rounds} rounds`,
    `${'variant'.padEnd(52)}${'peak RSS MiB (max)'.padStart(20)}${'composites/s (median)'.padStart(23)}${'p99 ms (median)'.padStart(17)}`,
  ];
  VARIANTS.forEach((v, i) => {
    const peak = Math.max(...runs[i].map((x) => x.peakMiB));
    const rate = median(runs[i].map((x) => x.compositesPerS));
    const p99 = median(runs[i].map((x) => x.p99Ms));
    lines.push(
      `${describe(v).padEnd(52)}${peak.toFixed(1).padStart(20)}${rate.toFixed(0).padStart(23)}${p99.toFixed(0).padStart(17)}`,
    );
  });
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`memoryFlags failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
