// Owns the one nunjucks environment templates compile in: every filter checked, our helpers, a bounded range.
import nunjucks from 'nunjucks';
import { JINJA_HELPERS } from './templateFilters';
import { boundedRange, checkFilterArguments, checkResult } from './templateLimits';
import { safeLookup } from './templateRuntime';

function createEnvironment(): nunjucks.Environment {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  // 'dev' keeps the original error as `cause` (nunjucks otherwise flattens it to text), so
  // describeRenderError can tell our safe messages from others. Nothing of it reaches a client.
  (env as unknown as { opts: { dev: boolean } }).opts.dev = true;
  const filters = (env as unknown as { filters: Record<string, (...args: unknown[]) => unknown> }).filters;
  // Built-in filters such as `sort(attribute=…)` read attributes directly; none may hand back a function.
  for (const [name, filter] of Object.entries(filters)) {
    env.addFilter(name, function (this: unknown, ...args: unknown[]) {
      checkFilterArguments(name, args[0], args.slice(1));
      const result = checkResult(filter.apply(this, args), `the ${name} filter's result`);
      return typeof result === 'function' ? undefined : result;
    });
  }
  // Ours, each usable as a filter and as a function; `attr` only as a filter.
  for (const [name, fn] of Object.entries(JINJA_HELPERS)) {
    env.addFilter(name, fn);
    env.addGlobal(name, fn);
  }
  env.addFilter('attr', (obj: unknown, name: unknown) => safeLookup(obj, name));
  const globals = (env as unknown as { globals: Record<string, (...args: unknown[]) => unknown[]> }).globals;
  env.addGlobal('range', boundedRange(globals.range));
  return env;
}

export const environment = createEnvironment();
