// Owns `node dist/bench/memoryFlags.js`: peak RSS (VmHWM) and throughput of the server under 64 clients
// sending composites of 10 for MEMORY_SECONDS (15), once per variant of V8 / glibc settings, each on a
// fresh database and a fresh process, one after another — what the heap sizing, not the live objects,
// costs in resident memory. Variants: Node's defaults, a smaller young generation, fewer malloc arenas.
import { randomBytes } from 'node:crypto';
import { freshDatabase } from './database';
import { startServer } from './server';
import { basicAuth } from './client';
import { runThroughput } from './throughput';

const VARIANTS: Array<{ name: string; nodeArgs: string[]; env: Record<string, string> }> = [
  { name: "Node's defaults", nodeArgs: [], env: {} },
  { name: '--max-semi-space-size=2', nodeArgs: ['--max-semi-space-size=2'], env: {} },
  { name: 'MALLOC_ARENA_MAX=2', nodeArgs: [], env: { MALLOC_ARENA_MAX: '2' } },
  { name: 'both', nodeArgs: ['--max-semi-space-size=2'], env: { MALLOC_ARENA_MAX: '2' } },
];

async function main(): Promise<void> {
  const seconds = Number(process.env.MEMORY_SECONDS || 15);
  const lines = [
    `64 clients × composites of 10 for ${seconds}s per variant`,
    `${'variant'.padEnd(28)}${'peak RSS MiB'.padStart(14)}${'composites/s'.padStart(14)}${'p99 ms'.padStart(8)}`,
  ];
  for (const v of VARIANTS) {
    const db = await freshDatabase(process.env.DATABASE_URL);
    const password = randomBytes(12).toString('hex');
    const server = await startServer(
      { DATABASE_URL: db.url, ADMIN_PASSWORD: password, LOG_LEVEL: 'info', ...v.env },
      v.nodeArgs,
    );
    try {
      const t = await runThroughput(server.origin, basicAuth('admin', password), {
        connections: 64,
        durationS: seconds,
        n: 10,
      });
      lines.push(
        `${v.name.padEnd(28)}${(server.peakRssMiB() ?? NaN).toFixed(1).padStart(14)}${t.compositesPerS.toFixed(0).padStart(14)}${String(t.p99Ms).padStart(8)}`,
      );
    } finally {
      await server.stop();
      await db.drop();
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`memoryFlags failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
