// Owns the load run: 16 concurrent keep-alive clients sending composites of 10 for a fixed time (autocannon).
import autocannon from 'autocannon';
import { COMPOSITE_PATH, compositeBody } from './client';
import { loadAverage } from './roundTwoReport';

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
}

export async function runThroughput(
  origin: string,
  authorization: string,
  opts: { connections: number; durationS: number; n: number },
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
  const r = await run(opts.durationS);
  const ok = r['2xx'];
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
  };
}
