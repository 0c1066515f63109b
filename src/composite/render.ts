// Owns turning a planned call into the raw input of its operation: its path parameters, query, body
// and headers rendered against the variables set so far, within the composite's rendering budget.
import type { RawInput } from '../api/dispatch';
import type { Config } from '../config';
import { errors } from '../errors';
import type { CompositePlan, PlannedCall } from './plan';
import { ExpansionError, RenderBudget, type Vars } from './vars';

/** The call's input with its variables rendered; a rendering past a bound of `budget` is a 400 naming the subrequest. */
export function rawInput(call: PlannedCall, vars: Vars, budget: RenderBudget): RawInput {
  try {
    const params: Record<string, string> = {};
    for (const [name, value] of call.params)
      params[name] = typeof value === 'string' ? value : (value(vars, budget) as string);
    // A copy: validation coerces the query in place, and the plan's own object must stay as written.
    const query = Object.assign(
      {},
      (call.queryRenderer ? call.queryRenderer(vars, budget) : call.query) as Record<string, unknown>,
    );
    const body = call.bodyRenderer ? call.bodyRenderer(vars, budget) : call.body;
    return {
      params,
      query,
      body,
      headers: call.headersRenderer
        ? renderedHeaders(call.headersRenderer(vars, budget) as Record<string, unknown>)
        : call.headers,
    };
  } catch (err) {
    if (!(err instanceof ExpansionError)) throw err;
    throw errors.badInput(`${call.section}[${call.index}]: ${err.message}`, [
      {
        message: 'Variable expansion too large',
        properties: { section: call.section, index: call.index, ...err.properties },
      },
    ]);
  }
}

/** The composite's rendering budget, from its own size and the configured bounds. */
export function renderBudget(
  plan: CompositePlan,
  config: Pick<Config, 'compositeMaxExpansion' | 'bodyLimitBytes'>,
): RenderBudget {
  return RenderBudget.forBody(plan.bodySize, config.compositeMaxExpansion, config.bodyLimitBytes);
}

/** Header values as text (a whole-value variable keeps its JSON type until here). */
function renderedHeaders(rendered: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const k of Object.keys(rendered)) headers[k] = String(rendered[k]);
  return headers;
}
