// Owns running a planned batch: each subrequest in order, as if sent alone (its own transaction and
// authorisation, through runAlone), with the headers it inherits; a failure with onFail "abort" skips the rest.
import type { Caller, OpResult, Runtime } from '../api/operation';
import { dryRunOf, type UnknownElements } from '../api/requestOptions';
import { runAlone } from '../api/runAlone';
import { mapDbError, dbErrorCode } from '../db/errors';
import { ApiError, errors } from '../errors';
import type { PlannedSubrequest } from './plan';
import type { BatchEntry, BatchHeader } from './schema';

export interface BatchContext {
  rt: Runtime;
  caller: Caller;
  requestId: string;
  /** The main request's headers (lower-case names). */
  headers: Record<string, string | undefined>;
  /** The main request is a dry run: so is every subrequest. */
  dryRun: boolean;
  /** The main request's unknown-element handling, for every subrequest. */
  unknown?: UnknownElements;
}

/** Which response headers an entry shows (`includeResponseHeaders`): all, none, or the names listed. */
export type HeaderFilter = (name: string) => boolean;

export function headerFilter(value: string | undefined): HeaderFilter {
  if (value === undefined || value.trim().toLowerCase() === 'all') return () => true;
  if (value.trim().toLowerCase() === 'none') return () => false;
  const names = new Set(
    value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  if (names.size === 0)
    throw errors.badInput('includeResponseHeaders must be all, none or a comma list of header names');
  return (name) => names.has(name.toLowerCase());
}

/** A subrequest inherits every header of the main request except GW-Checksum; its own override. */
function inheritedHeaders(
  main: Record<string, string | undefined>,
  own: Record<string, string>,
): Record<string, string | undefined> {
  const headers = { ...main };
  delete headers['gw-checksum'];
  return Object.assign(headers, own);
}

function entryOf(status: number, headers: Record<string, string>, body: unknown, show: HeaderFilter): BatchEntry {
  const list: BatchHeader[] = Object.entries(headers)
    .filter(([name]) => show(name))
    .map(([name, value]) => ({ name, value }));
  return body === undefined ? { status, headers: list } : { status, headers: list, body };
}

/** A subrequest's failure as its entry; anything unexpected is logged and shown as a bare 500. */
function failureEntry(x: BatchContext, sub: PlannedSubrequest, err: unknown, show: HeaderFilter): BatchEntry {
  const mapped = err instanceof ApiError ? err : mapDbError(err);
  let apiError: ApiError;
  if (mapped instanceof ApiError) apiError = mapped;
  else {
    // Name and driver code only, as the error handler logs: a message can hold SQL.
    x.rt.services.logger.error(
      { reqId: x.requestId, batchIndex: sub.index, error: (err as Error)?.name ?? typeof err, code: dbErrorCode(err) },
      'unexpected error in a batch subrequest',
    );
    apiError = errors.internal(x.requestId);
  }
  return entryOf(apiError.status, apiError.headers, apiError.toBody(), show);
}

async function runOne(x: BatchContext, sub: PlannedSubrequest): Promise<OpResult> {
  if (sub.target instanceof ApiError) throw sub.target;
  const headers = inheritedHeaders(x.headers, sub.headers);
  const dryRun = x.dryRun || dryRunOf(headers);
  // A copy of the query: validation coerces it in place.
  const raw = { params: sub.target.params, query: { ...sub.query }, body: sub.body, headers };
  return runAlone(sub.target.entry, x.rt, x.caller, raw, x.requestId, { dryRun, unknown: x.unknown });
}

export async function runBatch(plan: PlannedSubrequest[], x: BatchContext, show: HeaderFilter): Promise<BatchEntry[]> {
  const entries: BatchEntry[] = [];
  let aborted = false;
  for (const sub of plan) {
    if (aborted) {
      entries.push({ skipped: true });
      continue;
    }
    let entry: BatchEntry;
    try {
      const result = await runOne(x, sub);
      entry = entryOf(result.status, result.headers ?? {}, result.raw ? String(result.raw.body) : result.body, show);
    } catch (err) {
      entry = failureEntry(x, sub, err, show);
    }
    entries.push(entry);
    if (sub.abortOnFail && 'status' in entry && entry.status >= 400) aborted = true;
  }
  return entries;
}
