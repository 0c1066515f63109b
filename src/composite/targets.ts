// Owns where a subrequest's uri goes: the uri checked for safety (a path relative to /rest, nothing
// else), matched to an operation of the route table that may run in a composite, and its path
// parameters compiled (literal, or a variable rendered at run time) — once per method and uri.
import type { CompiledOp } from '../api/dispatch';
import type { PathMatch, PathMatcher } from '../api/match';
import { errors, type ApiError } from '../errors';
import { compileSegment, type Renderer } from './vars';

export type Section = 'requests' | 'selections';

/** A 400 naming the subrequest (`requests[3]: …`) with its section and index as properties. */
export function refuse(
  section: Section,
  index: number,
  message: string,
  extra: Record<string, unknown> = {},
): ApiError {
  return errors.badInput(`${section}[${index}]: ${message}`, [{ message, properties: { section, index, ...extra } }]);
}

/** Where a subrequest goes: the operation and its path parameters compiled. */
export interface Target {
  compiled: CompiledOp;
  params: Array<[string, string | Renderer]>;
}

export interface TargetState {
  matcher: PathMatcher<CompiledOp>;
  /** `method uri` → its target. Composites repeat one (a hundred notes on one activity): each is
   * checked, matched and compiled once. Only a target that resolved is kept, and the variables it
   * uses stay declared from then on. */
  targets: Map<string, Target>;
  declared: (name: string) => boolean;
}

/** Uri safety: a path relative to /rest and nothing else. */
function uriProblem(uri: string): string | undefined {
  if (!uri.startsWith('/')) return 'uri must be a path starting with / (relative to /rest)';
  if (uri.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(uri)) return 'uri must not hold a scheme or host';
  if (uri.includes('//')) return 'uri must not contain //';
  if (/[?#]/.test(uri)) return 'uri must not hold a query string or fragment; use parameters';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a uri must not hold
  if (/[\\\u0000-\u001f\u007f\s]/.test(uri)) return 'uri must not contain backslashes, spaces or control characters';
  if (/%2e|%2f|%5c/i.test(uri)) return 'uri must not contain encoded dots, slashes or backslashes';
  if (uri.split('/').some((s) => s === '.' || s === '..')) return 'uri must not contain . or .. segments';
  if (uri.startsWith('/rest/')) return 'uri is relative to /rest: write /common/v1/…, not /rest/common/v1/…';
  return undefined;
}

type UriLookup = string | Array<PathMatch<CompiledOp>>;

/** Uris seen before, per matcher: the same few come in composite after composite. */
const seen = new WeakMap<PathMatcher<CompiledOp>, Map<string, UriLookup>>();
/** Bounded (a uri is at most 2,000 characters): emptied when full. */
const SEEN_LIMIT = 500;

/** What `findUri` says of `uri`, remembered: it depends on nothing but the uri and the route table. */
function lookupUri(matcher: PathMatcher<CompiledOp>, uri: string): UriLookup {
  let known = seen.get(matcher);
  if (!known) seen.set(matcher, (known = new Map()));
  let found = known.get(uri);
  if (found === undefined) {
    if (known.size >= SEEN_LIMIT) known.clear();
    known.set(uri, (found = findUri(matcher, uri)));
  }
  return found;
}

/** A uri's safety problem (a message), or the operations whose path it matches. */
function findUri(matcher: PathMatcher<CompiledOp>, uri: string): UriLookup {
  const problem = uriProblem(uri);
  if (problem) return problem;
  for (const seg of uri.split('/').slice(1)) {
    try {
      decodeURIComponent(seg.replace(/\$\{[^}]*\}/g, ''));
    } catch {
      return 'uri holds a malformed percent-encoding';
    }
  }
  return matcher.match(uri, (seg) => seg.includes('${'));
}

export function targetOf(state: TargetState, section: Section, index: number, method: string, uri: string): Target {
  const key = `${method} ${uri}`;
  let target = state.targets.get(key);
  if (!target) state.targets.set(key, (target = resolveTarget(state, section, index, method, uri)));
  return target;
}

function resolveTarget(state: TargetState, section: Section, index: number, method: string, uri: string): Target {
  const found = lookupUri(state.matcher, uri);
  if (typeof found === 'string') throw refuse(section, index, found, { uri });
  const match = found.find((m) => m.entry.op.method === method);
  if (!match) {
    if (found.length > 0)
      throw refuse(section, index, `${method.toUpperCase()} is not an operation on ${uri}`, { uri });
    throw refuse(section, index, `no operation matches ${uri} (variables may stand only in id segments)`, { uri });
  }
  const op = match.entry.op;
  if (!op.allowForComposite)
    throw refuse(section, index, `${op.operationId} is not allowed in a composite (x-gw-allowForCompositeApi: false)`, {
      operationId: op.operationId,
    });
  const params: Array<[string, string | Renderer]> = Object.entries(match.params).map(([name, seg]) => {
    return [name, compileSegment(seg, state.declared) ?? decodeURIComponent(seg)];
  });
  return { compiled: match.entry, params };
}
