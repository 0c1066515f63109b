// Owns the memory part of `npm run bench`: the server under 64 concurrent clients sending composites of
// 10 for BENCH_LOAD_SECONDS (30 by default), its own view of its memory from /metrics at the end of that
// load, and, with BENCH_HEAP_SNAPSHOT=<dir>, a V8 heap snapshot taken half-way through it (the server
// child must then run with --heapsnapshot-signal=SIGUSR2 and --diagnostic-dir=<dir>).
import fs from 'node:fs';
import { ApiClient } from './apiClient';
import { runThroughput, type Throughput } from './throughput';

export interface MemoryUnderLoad {
  load: Throughput;
  /** From the server's /metrics right after the load, in MiB. */
  rssMiB: number | undefined;
  heapUsedMiB: number | undefined;
  heapTotalMiB: number | undefined;
  externalMiB: number | undefined;
  heapSnapshotTaken: boolean;
  /** Resident MiB right after the load by kind of mapping (/proc/<pid>/smaps), and the thread count. */
  mappings: Record<string, number> | undefined;
  threads: number | undefined;
}

/** Anonymous memory holds the V8 heap, malloc'd native memory and thread stacks; the rest is files. */
function mappingKind(name: string): string {
  if (name === '') return 'anonymous (V8 heap, native allocations, stacks)';
  if (name === '[heap]') return '[heap] (malloc, brk)';
  if (name.endsWith('.node')) return 'native addons (.node)';
  if (/\/node$|\/nodejs$/.test(name)) return 'the node binary';
  if (name.startsWith('[')) return name;
  return 'other files (libraries, databases)';
}

function residentByMapping(pid: number): Record<string, number> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, number> = {};
  let kind = '';
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) kind = mappingKind(header[1].trim());
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return out;
}

function threadCount(pid: number): number | undefined {
  try {
    const m = /Threads:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function gauge(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) / 1048576 : undefined;
}

export async function memoryUnderLoad(
  origin: string,
  authorization: string,
  admin: ApiClient,
  opts: { connections: number; seconds: number; serverPid: number; snapshot: boolean },
): Promise<MemoryUnderLoad> {
  let snapshot: NodeJS.Timeout | undefined;
  if (opts.snapshot) {
    // runThroughput warms up for a fifth of the time first; half-way through the measured load.
    const pid = opts.serverPid;
    snapshot = setTimeout(
      () => process.kill(pid, 'SIGUSR2'),
      (Math.max(1, Math.round(opts.seconds / 5)) + opts.seconds / 2) * 1000,
    );
  }
  const load = await runThroughput(origin, authorization, {
    connections: opts.connections,
    durationS: opts.seconds,
    n: 10,
  });
  clearTimeout(snapshot);
  const mappings = residentByMapping(opts.serverPid);
  const threads = threadCount(opts.serverPid);
  const text = (await admin.send('GET', '/metrics')).text;
  return {
    load,
    rssMiB: gauge(text, 'process_resident_memory_bytes'),
    heapUsedMiB: gauge(text, 'nodejs_heap_size_used_bytes'),
    heapTotalMiB: gauge(text, 'nodejs_heap_size_total_bytes'),
    externalMiB: gauge(text, 'nodejs_external_memory_bytes'),
    heapSnapshotTaken: opts.snapshot,
    mappings,
    threads,
  };
}
