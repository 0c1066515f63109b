// Owns the plan stage: everything about a composite that can be checked without data, checked before
// any transaction begins. Pure: it reads the route table and the parsed body, and returns a plan or a 400.
import type { CompiledOp } from '../api/dispatch';
import type { PathMatch, PathMatcher } from '../api/match';
import type { Operation } from '../api/operation';
import type { UnknownElements } from '../api/requestOptions';
import { errors, type ApiError } from '../errors';
import type { CompositeBody, SubRequest, SubSelection } from './parse';
import { compileSegment, compileValue, compileVarPath, TemplateError, type Renderer } from './vars';

export type Section = 'requests' | 'selections';

/** The Server-Timing name of a section's entries: `req.<i>`, `sel.<i>` (and `req.more`, `sel.more`). */
export const TIMING_PREFIX: Record<Section, string> = { requests: 'req', selections: 'sel' };

export interface PlannedCall {
  section: Section;
  index: number;
  method: string;
  /** Its Server-Timing entry's name (`req.3`, `sel.0`), made once. */
  timingName: string;
  compiled: CompiledOp;
  /** Path parameter name → literal value or renderer. */
  params: Array<[string, string | Renderer]>;
  query: Record<string, unknown>;
  queryRenderer?: Renderer;
  body: unknown;
  bodyRenderer?: Renderer;
  /** Lower-case request headers (only gw-checksum), literal or rendered. */
  headers: Record<string, string>;
  headersRenderer?: Renderer;
  /** Variables set from the response: the path as written, and its member steps. */
  vars: Array<{ name: string; path: string; steps: string[] }>;
  includeResponse: boolean;
}

export interface CompositePlan {
  requests: PlannedCall[];
  selections: PlannedCall[];
  /** Sequence name → ids the requests will create, reserved before the transaction. */
  creates: Map<string, number>;
  /** The composite's own size in characters, which bounds what rendering its variables may build. */
  bodySize: number;
}

function refuse(section: Section, index: number, message: string, extra: Record<string, unknown> = {}): ApiError {
  return errors.badInput(`${section}[${index}]: ${message}`, [{ message, properties: { section, index, ...extra } }]);
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

/** A uri's safety problem (a message), or the operations whose path it matches. */
function lookupUri(matcher: PathMatcher<CompiledOp>, uri: string): UriLookup {
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

export interface PlanContext {
  matcher: PathMatcher<CompiledOp>;
  maxSubrequests: number;
  /** The composite request's GW-UnknownQueryParamHandling: parameters no operation defines may be dropped. */
  unknown?: UnknownElements;
  /** The body's size as received (Content-Length); measured from the parsed body when not known. */
  bodySize?: number;
}

/** Where a subrequest goes: the operation and its path parameters compiled. */
interface Target {
  compiled: CompiledOp;
  params: Array<[string, string | Renderer]>;
}

const NOTHING: Readonly<Record<string, never>> = Object.freeze({});
const NO_VARS: PlannedCall['vars'] = [];

interface PlanState {
  matcher: PathMatcher<CompiledOp>;
  /** `method uri` → its target. Composites repeat one (a hundred notes on one activity): each is
   * checked, matched and compiled once. Only a target that resolved is kept, and the variables it
   * uses stay declared from then on. */
  targets: Map<string, Target>;
  declared: (name: string) => boolean;
  unknown?: UnknownElements;
}

function targetOf(state: PlanState, section: Section, index: number, method: string, uri: string): Target {
  const key = `${method} ${uri}`;
  let target = state.targets.get(key);
  if (!target) state.targets.set(key, (target = resolveTarget(state, section, index, method, uri)));
  return target;
}

function resolveTarget(state: PlanState, section: Section, index: number, method: string, uri: string): Target {
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

/**
 * The parameters without those the operation does not define at all, when the composite request
 * asks to drop them (GW-UnknownQueryParamHandling: log or ignore). A defined parameter that is not
 * allowed here is still refused.
 */
function withoutUnknownParams(
  state: PlanState,
  op: Operation,
  parameters: Record<string, unknown>,
): Record<string, unknown> {
  if (!state.unknown || state.unknown.queryParams === 'reject' || op.anyQueryParams) return parameters;
  const unknown = Object.keys(parameters).filter((name) => !op.queryParams.some((p) => p.name === name));
  if (unknown.length === 0) return parameters;
  state.unknown.drop('queryParams', unknown);
  return Object.fromEntries(Object.entries(parameters).filter(([name]) => !unknown.includes(name)));
}

function planCall(state: PlanState, section: Section, index: number, sub: SubRequest | SubSelection): PlannedCall {
  const declared = state.declared;
  // Which methods each section takes is the body schema's enum (parse.ts), checked before planning.
  const method = (sub.method ?? 'get').toLowerCase();
  try {
    const { compiled, params } = targetOf(state, section, index, method, sub.uri);
    const op = compiled.op;
    const parameters = withoutUnknownParams(state, op, sub.parameters ?? NOTHING);
    for (const name of Object.keys(parameters)) {
      const def = op.queryParams.find((p) => p.name === name);
      if (!def || !def.allowForComposite || (section === 'requests' && name !== 'fields')) {
        throw refuse(
          section,
          index,
          `query parameter "${name}" is not allowed here${section === 'requests' ? ' (requests take only fields)' : ''}`,
          { parameter: name },
        );
      }
    }
    const body = (sub as SubRequest).body;
    if (body !== undefined && !op.body)
      throw refuse(section, index, `${method.toUpperCase()} ${sub.uri} takes no body`);
    if (op.includedTypes && typeof body === 'object' && body !== null && 'included' in body) {
      throw refuse(section, index, 'request inclusion (included) is not allowed inside a composite', {
        member: 'included',
      });
    }

    const sent = (sub as SubRequest).headers;
    const headers = sent
      ? Object.fromEntries(Object.entries(sent).map(([k, v]) => [k.toLowerCase(), v as string]))
      : NOTHING;
    const sentVars = (sub as SubRequest).vars;
    const vars = !sentVars
      ? NO_VARS
      : sentVars.map((v) => {
          try {
            return { name: v.name, path: v.path, steps: compileVarPath(v.path) };
          } catch (err) {
            throw refuse(section, index, `var "${v.name}" path ${v.path}: ${(err as Error).message}`, {
              var: v.name,
              path: v.path,
            });
          }
        });
    return {
      section,
      index,
      method,
      timingName: `${TIMING_PREFIX[section]}.${index}`,
      compiled,
      params,
      query: parameters,
      queryRenderer: compileValue(parameters, declared),
      body,
      bodyRenderer: compileValue(body, declared),
      headers,
      headersRenderer: compileValue(headers, declared),
      vars,
      includeResponse: (sub as SubRequest).includeResponse !== false,
    };
  } catch (err) {
    if (err instanceof TemplateError) throw refuse(section, index, err.message);
    throw err;
  }
}

export function planComposite(ctx: PlanContext, body: CompositeBody): CompositePlan {
  const requests = body.requests ?? [];
  const selections = body.selections ?? [];
  if (requests.length + selections.length === 0)
    throw errors.badInput('A composite needs at least one request or selection');
  if (requests.length + selections.length > ctx.maxSubrequests) {
    throw errors.badInput(
      `A composite may hold at most ${ctx.maxSubrequests} requests and selections together; this one holds ${requests.length + selections.length}`,
      [
        {
          message: 'Too many subrequests',
          properties: { limit: ctx.maxSubrequests, requests: requests.length, selections: selections.length },
        },
      ],
    );
  }
  const declared = new Set<string>();
  const state: PlanState = {
    matcher: ctx.matcher,
    targets: new Map(),
    declared: (name) => declared.has(name),
    unknown: ctx.unknown,
  };
  const plan: CompositePlan = {
    requests: [],
    selections: [],
    creates: new Map(),
    bodySize: ctx.bodySize ?? JSON.stringify(body).length,
  };
  requests.forEach((sub, i) => {
    const call = planCall(state, 'requests', i, sub);
    for (const v of call.vars) {
      if (declared.has(v.name))
        throw refuse('requests', i, `var "${v.name}" is already declared by an earlier subrequest`, { var: v.name });
    }
    for (const v of call.vars) declared.add(v.name);
    const seq = call.compiled.op.creates;
    if (seq) plan.creates.set(seq, (plan.creates.get(seq) ?? 0) + 1);
    plan.requests.push(call);
  });
  selections.forEach((sub, i) => plan.selections.push(planCall(state, 'selections', i, sub)));
  return plan;
}
