// Owns the batch plan: everything about a batch checked before any subrequest runs — the limit,
// methods, paths, and that no batch is nested — and where each subrequest goes. Pure.
import { parse as parseQueryString } from 'node:querystring';
import type { CompiledOp } from '../api/dispatch';
import type { PathMatcher } from '../api/match';
import type { ApiName } from '../api/operation';
import { resolveOperation, type Resolved } from '../api/resolve';
import { ApiError, errors } from '../errors';
import type { BatchBody } from './schema';

/** The path of the batch operation in each API that has one. */
export const BATCH_PATH = '/batch';

const METHODS = ['get', 'post', 'patch', 'delete'];

export interface PlannedSubrequest {
  index: number;
  method: string;
  /** The operation, or the error it answers as if sent alone (404, 405, a malformed path). */
  target: Resolved<CompiledOp> | ApiError;
  query: Record<string, unknown>;
  body: unknown;
  /** Its own headers, lower-case names. */
  headers: Record<string, string>;
  abortOnFail: boolean;
}

export interface BatchPlanContext {
  api: ApiName;
  matcher: PathMatcher<CompiledOp>;
  maxSubrequests: number;
}

function refuse(index: number, message: string, extra: Record<string, unknown> = {}): ApiError {
  return errors.badInput(`requests[${index}]: ${message}`, [{ message, properties: { index, ...extra } }]);
}

function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/') || path.startsWith('//')) return 'path must start with a single / (relative to the API)';
  if (/[?#]/.test(path)) return 'path must not hold a query string or fragment; use query';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a path must not hold
  if (/[\\\u0000-\u001f\u007f\s]/.test(path)) return 'path must not contain backslashes, spaces or control characters';
  if (path.split('/').some((s) => s === '.' || s === '..')) return 'path must not contain . or .. segments';
  return undefined;
}

export function planBatch(ctx: BatchPlanContext, body: BatchBody): PlannedSubrequest[] {
  if (body.requests.length > ctx.maxSubrequests) {
    throw errors.badInput(
      `A batch may hold at most ${ctx.maxSubrequests} requests; this one holds ${body.requests.length}`,
      [{ message: 'Too many subrequests', properties: { limit: ctx.maxSubrequests, requests: body.requests.length } }],
    );
  }
  return body.requests.map((sub, index) => {
    const method = sub.method.toLowerCase();
    if (!METHODS.includes(method))
      throw refuse(index, `method ${sub.method} is not one of ${METHODS.join(', ')}`, { method: sub.method });
    const problem = pathProblem(sub.path);
    if (problem) throw refuse(index, problem, { path: sub.path });
    const where = `/${ctx.api}/v1${sub.path}`;
    let target: PlannedSubrequest['target'];
    try {
      target = resolveOperation(ctx.matcher, method, where, where);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      target = err;
    }
    if (!(target instanceof ApiError) && target.entry.op.path === BATCH_PATH)
      throw refuse(index, 'a batch may not hold a batch', { path: sub.path });
    const headers: Record<string, string> = {};
    for (const h of sub.headers ?? []) headers[h.name.toLowerCase()] = h.value;
    // Parsed exactly as Express parses a direct request's query string ('simple': node:querystring).
    const query = { ...parseQueryString(sub.query ?? '') } as Record<string, unknown>;
    return { index, method, target, query, body: sub.body, headers, abortOnFail: sub.onFail === 'abort' };
  });
}
