// Owns the output of the second round (issue 21): per-repetition medians, the repeated ratios as
// min / median / max against their targets, memory under 64 clients, peak RSS of both servers and the
// start-to-ready figures of `npm run bench:startup`; printed, and written to
// bench/results/<database>-round2-latest.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MemoryUnderLoad } from './memory';
import type { NewApiResults } from './newApis';
import type { TwoInstances } from './twoInstances';

export interface RoundTwo {
  database: 'sqlite' | 'postgres';
  when: string;
  /** 1-, 5- and 15-minute load averages at the start and the end: the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  apis: NewApiResults;
  memory: MemoryUnderLoad;
  /** PostgreSQL only: one server against two on the same database. */
  twoInstances?: TwoInstances;
  peakRssMiB: {
    server: number | undefined;
    metricsServer: number | undefined;
    target: string;
  };
  /** Written by bench/startup.ts just before (always on SQLite), if it ran. */
  startup: unknown;
}

export const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

export function readStartup(dir: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'startup-latest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const f = (n: number | undefined, d = 2) => (n === undefined ? 'n/a' : n.toFixed(d));

export function printRoundTwo(r: RoundTwo): void {
  const lines: string[] = [
    '',
    `second round (issue 21) — ${r.database} — load average ${r.loadAverage.start.join(' ')} at the start, ${r.loadAverage.end.join(' ')} at the end`,
  ];
  const names = Object.keys(r.apis.repeats[0] ?? {});
  lines.push(
    `${'medians, ms, per repetition'.padEnd(48)}${r.apis.repeats.map((_, i) => `rep ${i + 1}`.padStart(10)).join('')}`,
  );
  for (const n of names) lines.push(`${n.padEnd(48)}${r.apis.repeats.map((m) => f(m[n], 3).padStart(10)).join('')}`);
  lines.push('');
  lines.push(
    `${'ratio (one per repetition)'.padEnd(56)}${'min'.padStart(8)}${'median'.padStart(8)}${'max'.padStart(8)}${'target'.padStart(9)}  met (all 3)`,
  );
  for (const x of r.apis.ratios) {
    lines.push(
      `${x.name.padEnd(56)}${f(x.min).padStart(8)}${f(x.median).padStart(8)}${f(x.max).padStart(8)}${(x.target ?? '—').padStart(9)}  ${x.met === undefined ? '' : x.met ? 'yes' : 'NO'}`,
    );
  }
  const m = r.memory;
  const t = m.load;
  lines.push('');
  lines.push(
    `under ${t.connections} clients × composites of 10 for ${t.durationS}s: ${f(t.compositesPerS, 1)} composites/s, p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms, errors ${t.errors}`,
  );
  lines.push(
    `  server's memory right after (its /metrics): RSS ${f(m.rssMiB, 1)} MiB, V8 heap used ${f(m.heapUsedMiB, 1)} of ${f(m.heapTotalMiB, 1)} MiB, external ${f(m.externalMiB, 1)} MiB${m.heapSnapshotTaken ? ' (a heap snapshot was taken during the load: RSS includes its cost)' : ''}`,
  );
  if (m.mappings)
    lines.push(
      `  resident by mapping (smaps) with ${m.threads} threads: ${Object.entries(m.mappings)
        .sort((a, b) => b[1] - a[1])
        .filter(([, v]) => v >= 0.5)
        .map(([k, v]) => `${k} ${f(v, 1)}`)
        .join(', ')} MiB`,
    );
  lines.push(
    `peak RSS through the whole bench (VmHWM): server ${f(r.peakRssMiB.server, 1)} MiB (target ${r.peakRssMiB.target}), metrics A/B server (no 64-client load) ${f(r.peakRssMiB.metricsServer, 1)} MiB`,
  );
  const two = r.twoInstances;
  if (two) {
    lines.push(
      `two instances on one database, 16 clients × composites of 10 for ${two.seconds}s: one server ${f(two.oneServer.compositesPerS, 1)} composites/s (p99 ${two.oneServer.p99Ms} ms, errors ${two.oneServer.errors}); ` +
        `two servers ${f(two.twoServers.compositesPerS, 1)} composites/s = ${two.twoServers.perServer.map((x) => f(x, 1)).join(' + ')} (p99 ${two.twoServers.p99Ms} ms, errors ${two.twoServers.errors}); ×${f(two.twoServers.compositesPerS / two.oneServer.compositesPerS)}`,
    );
  }
  if (r.startup) lines.push(`start-to-ready: see bench/results/startup-latest.json (${JSON.stringify(r.startup)})`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function writeRoundTwo(r: RoundTwo, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.database}-round2-latest.json`);
  fs.writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}
