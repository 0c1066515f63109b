// Owns the plan stage: everything about a composite that can be checked without data, checked before
// any transaction begins. Pure: it reads the route table and the parsed body, and returns a plan or a 400.
import type { CompiledOp } from '../api/dispatch';
import type { PathMatcher } from '../api/match';
import type { Operation } from '../api/operation';
import type { UnknownElements } from '../api/requestOptions';
import { errors } from '../errors';
import type { CompositeBody, SubRequest, SubSelection } from './parse';
import { refuse, targetOf, type Section, type TargetState } from './targets';
import { compileValue, compileVarPath, TemplateError, type Renderer } from './vars';

export type { Section } from './targets';

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

export interface PlanContext {
  matcher: PathMatcher<CompiledOp>;
  maxSubrequests: number;
  /** The composite request's GW-UnknownQueryParamHandling: parameters no operation defines may be dropped. */
  unknown?: UnknownElements;
  /** The body's size as received (Content-Length); measured from the parsed body when not known. */
  bodySize?: number;
}

const NOTHING: Readonly<Record<string, never>> = Object.freeze({});
const NO_VARS: PlannedCall['vars'] = [];

interface PlanState extends TargetState {
  unknown?: UnknownElements;
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
