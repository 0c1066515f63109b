// Owns the memory part of `npm run bench`: the server under 64 concurrent clients sending composites of
// 10 for BENCH_LOAD_SECONDS (30 by default), its own view of its memory from /metrics at the end of that
// load, and, with BENCH_HEAP_SNAPSHOT=<dir>, a V8 heap snapshot taken half-way through it (the server
// child must then run with --heapsnapshot-signal=SIGUSR2 and --diagnostic-dir=<dir>).
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
}

function gauge(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) / 1048576 : undefined;
}

export async function memoryUnderLoad(
  origin: string, authorization: string, admin: ApiClient, opts: { connections: number; seconds: number; snapshotPid?: number },
): Promise<MemoryUnderLoad> {
  let snapshot: NodeJS.Timeout | undefined;
  if (opts.snapshotPid !== undefined) {
    // runThroughput warms up for a fifth of the time first; half-way through the measured load.
    const pid = opts.snapshotPid;
    snapshot = setTimeout(() => process.kill(pid, 'SIGUSR2'), (Math.max(1, Math.round(opts.seconds / 5)) + opts.seconds / 2) * 1000);
  }
  const load = await runThroughput(origin, authorization, { connections: opts.connections, durationS: opts.seconds, n: 10 });
  clearTimeout(snapshot);
  const text = (await admin.send('GET', '/metrics')).text;
  return {
    load,
    rssMiB: gauge(text, 'process_resident_memory_bytes'),
    heapUsedMiB: gauge(text, 'nodejs_heap_size_used_bytes'),
    heapTotalMiB: gauge(text, 'nodejs_heap_size_total_bytes'),
    externalMiB: gauge(text, 'nodejs_external_memory_bytes'),
    heapSnapshotTaken: opts.snapshotPid !== undefined,
  };
}
