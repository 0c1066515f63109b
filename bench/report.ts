// Owns the bench's output: the figures and ratios against the targets, as a table and as JSON.
import fs from 'node:fs';
import path from 'node:path';
import type { CompositeSplit } from './client';
import type { Sample } from './stats';
import type { Throughput } from './throughput';

export interface Results {
  database: 'sqlite' | 'postgres';
  when: string;
  machine: { node: string; cpus: string; cores: number; commit: string };
  settings: Record<string, number | string>;
  latency: Record<string, Sample>;
  /** Medians over composite(100) runs: client-seen time, and the server's Server-Timing split of it. */
  composite100Split: CompositeSplit;
  /** Size of the HTTP floor's answer to a composite of 100 (the server's is in composite100Split). */
  httpFloor100ResponseBytes: number;
  throughput: Throughput;
  selection: {
    composite: Sample;
    direct: Sample;
    statements: string[];
    plans: string[][];
    indexUsed: boolean;
    rows: number;
  };
  peakRss: { MiB: number | undefined; source: string };
  ratios: Ratio[];
  /** Ratios without a target that say where a gap comes from. */
  references: Array<{ name: string; value: number; meaning: string }>;
}

export interface Ratio {
  name: string;
  value: number;
  target: string;
  met: boolean;
}

const ratio = (name: string, value: number, op: '≤' | '≥', limit: number): Ratio => ({
  name,
  value,
  target: `${op} ${limit}`,
  met: op === '≤' ? value <= limit : value >= limit,
});

const medianOf = (r: Pick<Results, 'latency'>) => (k: string) => r.latency[k].medianMs;

export function references(r: Pick<Results, 'latency'>): Results['references'] {
  const m = medianOf(r);
  return [
    {
      name: 'http-floor(100) / floor(100)',
      value: m('http-floor(100)') / m('floor(100)'),
      meaning: 'what one HTTP round trip with these bodies and their JSON adds to the rows alone',
    },
    {
      name: 'composite(100) / http-floor(100)',
      value: m('composite(100)') / m('http-floor(100)'),
      meaning: 'what this server adds to a bare handler writing the same rows',
    },
  ];
}

export function ratios(r: Omit<Results, 'ratios' | 'references'>): Ratio[] {
  const m = medianOf(r);
  return [
    ratio('composite(100) / floor(100)', m('composite(100)') / m('floor(100)'), '≤', 3),
    ratio('separate(100) / composite(100)', m('separate(100)') / m('composite(100)'), '≥', 20),
    ratio('composite(100) / composite(10)', m('composite(100)') / m('composite(10)'), '≤', 10),
    ratio('throughput p99 / p50', r.throughput.p99Ms / r.throughput.p50Ms, '≤', 10),
    ratio('throughput errors', r.throughput.errors, '≤', 0),
    ratio('selection / direct SQL', r.selection.composite.medianMs / r.selection.direct.medianMs, '≤', 2),
  ];
}

const fmt = (n: number | undefined, digits = 2) => (n === undefined ? 'n/a' : n.toFixed(digits));

export function printTable(r: Results): void {
  const lines: string[] = [];
  lines.push(
    `composite API bench — ${r.database} — ${r.when} — node ${r.machine.node}, ${r.machine.cores}× ${r.machine.cpus}`,
  );
  lines.push('');
  lines.push(
    `${'latency (median of runs after warm-up)'.padEnd(40)}${'median ms'.padStart(11)}${'p25'.padStart(9)}${'p75'.padStart(9)}${'runs'.padStart(6)}`,
  );
  const row = (name: string, s: Sample) =>
    `${name.padEnd(40)}${fmt(s.medianMs, 3).padStart(11)}${fmt(s.p25Ms, 3).padStart(9)}${fmt(s.p75Ms, 3).padStart(9)}${String(s.runs).padStart(6)}`;
  for (const [name, s] of Object.entries(r.latency)) lines.push(row(name, s));
  const sel = r.selection;
  lines.push(row(`selection via composite (${sel.rows} rows)`, sel.composite));
  lines.push(row('selection, same SQL on the driver', sel.direct));
  const c = r.composite100Split;
  lines.push('');
  lines.push(
    `where composite(100) goes (medians, Server-Timing): client sees ${fmt(c.client)} ms; handler ${fmt(c.handler)} ms = ` +
      `subrequests ${fmt(c.subrequests)} + queued inserts ${fmt(c.writes)} + commit ${fmt(c.commit)} + parse/plan/respond ${fmt(c.handler - c.subrequests - c.writes - c.commit)}; ` +
      `HTTP, auth, body parse and JSON out ${fmt(c.client - c.handler)} ms; response ${c.responseBytes} bytes`,
  );
  lines.push('');
  const t = r.throughput;
  lines.push(
    `throughput: ${t.connections} clients × composites of ${t.subrequestsPerComposite} for ${t.durationS}s: ` +
      `${fmt(t.compositesPerS, 1)} composites/s, ${fmt(t.subrequestsPerS, 0)} subrequests/s, p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms, max ${t.maxMs} ms, errors ${t.errors}`,
  );
  if (t.cpu)
    lines.push(
      `  CPU per composite: server ${fmt(t.cpu.serverMs)} ms (its one JavaScript thread answers at most ${fmt(1000 / t.cpu.serverMs, 0)}/s), ` +
        `PostgreSQL ${fmt(t.cpu.databaseMs)} ms, load generator ${fmt(t.cpu.loadGeneratorMs)} ms; machine idle ${fmt(t.cpu.idlePct, 1)} %, stolen ${fmt(t.cpu.stealPct, 1)} %`,
    );
  lines.push(`peak RSS of the server: ${fmt(r.peakRss.MiB, 1)} MiB (${r.peakRss.source})`);
  lines.push('');
  lines.push('query plans of the selection (index used: ' + (sel.indexUsed ? 'yes' : 'NO') + '):');
  sel.statements.forEach((sql, i) => {
    lines.push(`  ${sql}`);
    for (const p of sel.plans[i]) lines.push(`    ${p}`);
  });
  lines.push('');
  lines.push(`${'ratio'.padEnd(40)}${'value'.padStart(10)}${'target'.padStart(10)}  met`);
  for (const x of r.ratios)
    lines.push(`${x.name.padEnd(40)}${fmt(x.value).padStart(10)}${x.target.padStart(10)}  ${x.met ? 'yes' : 'NO'}`);
  lines.push('');
  lines.push(
    `reference (no target; the HTTP floor answers ${r.httpFloor100ResponseBytes} bytes to a composite of 100, the server ${c.responseBytes}):`,
  );
  for (const x of r.references) lines.push(`${x.name.padEnd(40)}${fmt(x.value).padStart(10)}  ${x.meaning}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function writeJson(r: Results, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.database}-latest.json`);
  fs.writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}
