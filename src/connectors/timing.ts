// Owns the timing headers of a connector execution: Server-Timing (one entry per step, then total)
// and X-Connector-Timing (JSON: total_ms and the per-step breakdown).
import type { StepTiming } from './run';

export function timingHeaders(timings: StepTiming[], totalMs: number): Record<string, string> {
  const entries = timings.map((t) => `step.${t.name};dur=${t.duration_ms};desc="Step: ${t.name}"`);
  entries.push(`total;dur=${totalMs};desc="Total"`);
  return {
    'Server-Timing': entries.join(', '),
    'X-Connector-Timing': JSON.stringify({ total_ms: totalMs, steps: timings }),
  };
}
