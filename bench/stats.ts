// Owns the statistics of the bench: timing one call, warm-up then repeated runs, and their median.
export interface Sample {
  /** Median of the measured runs, in milliseconds. */
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  runs: number;
  warmup: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The median of some values (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Measures several workloads interleaved (one run of each in turn), so drift on a shared machine hits all alike. */
export async function measureInterleaved<K extends string>(
  warmup: number,
  runs: number,
  fns: Record<K, () => unknown>,
): Promise<Record<K, Sample>> {
  const keys = Object.keys(fns) as K[];
  for (let i = 0; i < warmup; i++) for (const k of keys) await fns[k]();
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  // Each measured call follows an unmeasured one to the same target: on this shared VM the first
  // request to a process that sat idle while another ran costs up to 0.5 ms more (waking it).
  for (let i = 0; i < runs; i++) for (const k of keys) times[k].push((await fns[k](), await timeMs(fns[k])));
  const out = {} as Record<K, Sample>;
  for (const k of keys) {
    const t = times[k].sort((a, b) => a - b);
    out[k] = {
      medianMs: quantile(t, 0.5),
      p25Ms: quantile(t, 0.25),
      p75Ms: quantile(t, 0.75),
      minMs: t[0],
      runs,
      warmup,
    };
  }
  return out;
}
