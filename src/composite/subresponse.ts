// Owns one subrequest's place in the composite's answer: its entry in `responses` or `selections`, made
// from the operation's result, and its Server-Timing entry.
import type { OpResult } from '../api/operation';
import type { PlannedCall } from './plan';

export type SubResponse =
  | { body?: unknown; headers: Record<string, string>; status: number }
  | { responseIncluded: false }
  | { requestError: unknown }
  | { skipped: true };

/** One Server-Timing entry: a stage (`writes`, `commit`) with its description, or a subrequest's. */
export interface Timing {
  name: string;
  ms: number;
  desc?: string;
  /** The subrequest timed (its entry is named `req.<i>` or `sel.<i>` and has no description). */
  call?: PlannedCall;
}

/** Milliseconds since `start` (a `performance.now()`): a double, no BigInt allocated per subrequest. */
export function since(start: number): number {
  return performance.now() - start;
}

export function entry(result: OpResult): SubResponse {
  return result.body === undefined
    ? { headers: result.headers ?? {}, status: result.status }
    : { body: result.body, headers: result.headers ?? {}, status: result.status };
}
