// Owns the load run: 16 concurrent keep-alive clients sending composites of 10 for a fixed time (autocannon).
import autocannon from 'autocannon';
import { COMPOSITE_PATH, compositeBody } from './client';
import { cpuNs, machineTicks, postgresCpuNs } from './cpuTime';
import { loadAverage } from './roundTwoReport';

/**
 * Where the CPU of a load run went, per composite answered. A server runs its JavaScript on one thread,
 * so it answers at most 1000 / serverMs composites a second whatever the other core does.
 */
export interface CpuPerComposite {
  /** The server process, all its threads (on SQLite the database's work is in it). */
  serverMs: number;
  /** Every PostgreSQL process of the machine (0 on SQLite). */
  databaseMs: number;
  /** This bench process: the load generator. */
  loadGeneratorMs: number;
  /** Of the machine's CPU time (all cores) during the run: idle (with I/O wait), and stolen by the hypervisor. */
  idlePct: number;
  stealPct: number;
}

export interface Throughput {
  connections: number;
  durationS: number;
  subrequestsPerComposite: number;
  compositesPerS: number;
  subrequestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /**
   * The machine's load averages (1, 5, 15 min) before the warm-up and after the run, to compare with
   * the other steps of the run: a step that ran under more load than its neighbours shared the machine.
   */
  loadAverage: { start: number[]; end: number[] };
  /** Given the server's process id (and /proc): where the measured run's CPU went. */
  cpu?: CpuPerComposite;
}

/** Reads the counters before a run; the returned function gives the CPU per composite after it. */
function cpuMeter(serverPid: number | undefined): (composites: number) => CpuPerComposite | undefined {
  const server = serverPid === undefined ? undefined : cpuNs(serverPid);
  const database = postgresCpuNs();
  const self = process.cpuUsage();
  const ticks = machineTicks();
  return (composites) => {
    const serverAfter = serverPid === undefined ? undefined : cpuNs(serverPid);
    const ticksAfter = machineTicks();
    if (server === undefined || serverAfter === undefined || !ticks || !ticksAfter || composites === 0)
      return undefined;
    const used = process.cpuUsage(self);
    const total = ticksAfter.total - ticks.total;
    return {
      serverMs: (serverAfter - server) / 1e6 / composites,
      databaseMs: (postgresCpuNs() - database) / 1e6 / composites,
      loadGeneratorMs: (used.user + used.system) / 1e3 / composites,
      idlePct: (100 * (ticksAfter.idle - ticks.idle)) / total,
      stealPct: (100 * (ticksAfter.steal - ticks.steal)) / total,
    };
  };
}

export async function runThroughput(
  origin: string,
  authorization: string,
  opts: { connections: number; durationS: number; n: number; serverPid?: number },
): Promise<Throughput> {
  const run = (duration: number) =>
    autocannon({
      url: origin + COMPOSITE_PATH,
      connections: opts.connections,
      duration,
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: compositeBody(opts.n),
    });
  const start = loadAverage();
  await run(Math.max(1, Math.round(opts.durationS / 5)));
  const meter = cpuMeter(opts.serverPid);
  const r = await run(opts.durationS);
  const ok = r['2xx'];
  const cpu = meter(ok);
  return {
    connections: opts.connections,
    durationS: r.duration,
    subrequestsPerComposite: opts.n,
    compositesPerS: ok / r.duration,
    subrequestsPerS: (ok * opts.n) / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    errors: r.errors + r.timeouts + r.non2xx,
    loadAverage: { start, end: loadAverage() },
    ...(cpu ? { cpu } : {}),
  };
}
