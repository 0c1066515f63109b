// Owns the respond stage: the composite response body (200, or 400 requestFailed) and Server-Timing.
import type { OpResult } from '../api/operation';
import type { CompositeOutcome } from './execute';
import type { Timing } from './subresponse';
import { TIMING_PREFIX, type Section } from './plan';

/**
 * The most characters Server-Timing holds. With the answer's other headers that stays under 4 KiB,
 * the smallest response-header buffer common in front of a server (nginx's default
 * proxy_buffer_size), and far under the 16 KiB Node's HTTP clients accept: past those limits the
 * client loses the answer to a composite that committed. At the default COMPOSITE_MAX_SUBREQUESTS
 * (100) every subrequest has its entry.
 */
export const SERVER_TIMING_MAX_CHARS = 2560;
/** Kept free for the entry that sums the subrequests left out (`req.more`, `sel.more`). */
const SUMMARY_ROOM = 64;
const SEPARATOR = ', ';

/** Durations to the microsecond: a subrequest takes a few, and entries rounded to 0.01 ms summed to far less than their total. */
function entryText(name: string, ms: number, desc?: string): string {
  return desc === undefined ? `${name};dur=${ms.toFixed(3)}` : `${name};dur=${ms.toFixed(3)};desc="${desc}"`;
}

/**
 * An entry per stage (`writes`, `commit`, `total`) and per subrequest, in order, while they fit in
 * SERVER_TIMING_MAX_CHARS; from the first subrequest that does not fit on, the rest of its section
 * (and of any later section) is summed into one `req.more` / `sel.more` entry naming the range.
 */
function serverTiming(timings: Timing[], totalMs: number): string {
  const all: Timing[] = [...timings, { name: 'total', desc: 'Total', ms: totalMs }];
  const texts = all.map((t) => entryText(t.name, t.ms, t.desc));
  // The stages are always listed; the subrequests share what is left.
  let room = SERVER_TIMING_MAX_CHARS - 2 * (SUMMARY_ROOM + SEPARATOR.length);
  for (let i = 0; i < all.length; i++) if (!all[i].call) room -= texts[i].length + SEPARATOR.length;
  const out: string[] = [];
  let summed: { section: Section; first: number; last: number; ms: number } | undefined;
  const closeSum = () => {
    if (!summed) return;
    out.push(
      entryText(
        `${TIMING_PREFIX[summed.section]}.more`,
        summed.ms,
        `${summed.section} ${summed.first} to ${summed.last}`,
      ),
    );
    summed = undefined;
  };
  for (let i = 0; i < all.length; i++) {
    const t = all[i];
    const text = texts[i];
    if (!t.call) {
      closeSum();
      out.push(text);
      continue;
    }
    if (text.length + SEPARATOR.length <= room) {
      out.push(text);
      room -= text.length + SEPARATOR.length;
      continue;
    }
    room = 0;
    if (summed && summed.section !== t.call.section) closeSum();
    summed ??= { section: t.call.section, first: t.call.index, last: t.call.index, ms: 0 };
    summed.last = t.call.index;
    summed.ms += t.ms;
  }
  closeSum();
  return out.join(SEPARATOR);
}

export function respond(outcome: CompositeOutcome, totalMs: number, hasSelections: boolean): OpResult {
  const headers = { 'Server-Timing': serverTiming(outcome.timings, totalMs) };
  const body: Record<string, unknown> = outcome.ok ? {} : { requestFailed: true };
  body.responses = outcome.responses;
  if (hasSelections || !outcome.ok) body.selections = outcome.selections;
  return { status: outcome.ok ? 200 : 400, body, headers };
}
