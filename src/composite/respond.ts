// Owns the respond stage: the composite response body (200, or 400 requestFailed) and Server-Timing.
import type { OpResult } from '../api/operation';
import type { CompositeOutcome, Timing } from './execute';

/**
 * Descriptions are made safe for the header when the calls are planned (`PlannedCall.timingDesc`).
 * Durations to the microsecond: a subrequest takes a few, and entries rounded to 0.01 ms summed to a
 * fraction of their real total.
 */
function serverTiming(timings: Timing[], totalMs: number): string {
  const entry = (t: Timing) => `${t.name};dur=${t.ms.toFixed(3)};desc="${t.desc}"`;
  return [...timings.map(entry), entry({ name: 'total', desc: 'Total', ms: totalMs })].join(', ');
}

export function respond(outcome: CompositeOutcome, totalMs: number, hasSelections: boolean): OpResult {
  const headers = { 'Server-Timing': serverTiming(outcome.timings, totalMs) };
  const body: Record<string, unknown> = outcome.ok ? {} : { requestFailed: true };
  body.responses = outcome.responses;
  if (hasSelections || !outcome.ok) body.selections = outcome.selections;
  return { status: outcome.ok ? 200 : 400, body, headers };
}
