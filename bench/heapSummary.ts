// Owns `node dist/bench/heapSummary.js <file.heapsnapshot>`: what a V8 heap snapshot holds, as self size
// by kind of object (its constructor or node type), largest first — the answer to "what holds the
// server's memory" that `npm run bench` takes with BENCH_HEAP_SNAPSHOT=<dir>.
import fs from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeap(file: string, top = 25): string {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const size = snap.nodes[i + sizeAt];
    // Objects by constructor; strings, code, arrays and the rest by V8's node type.
    const key =
      type === 'object' || type === 'native' ? `${type} ${snap.strings[snap.nodes[i + nameAt]]}` : `(${type})`;
    const g = groups.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += size;
    g.count++;
    groups.set(key, g);
    total += size;
  }
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const rows = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
  return [
    `${file}: ${mib(total)} MiB in ${snap.nodes.length / width} objects`,
    ...rows.map(([k, g]) => `${mib(g.bytes).padStart(8)} MiB ${String(g.count).padStart(9)}  ${k.slice(0, 100)}`),
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/heapSummary.js <file.heapsnapshot>\n');
    process.exit(2);
  }
  process.stdout.write(summarizeHeap(file) + '\n');
}
