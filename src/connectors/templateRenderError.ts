// Owns what may be said about a template's render failure without leaking the data it rendered.
import { TemplateDataError } from './templateFilters';
import { TemplateLimitError } from './templateLimits';

const SAFE_RUNTIME_MESSAGE = /^Unable to call `[^`]{0,200}`, which is (undefined or falsey|not a function)$/;

/**
 * What may be said about a render failure without leaking data: our own filter messages, nunjucks's
 * "unable to call" (names from the template text only), and the position in the template.
 */
export function describeRenderError(err: unknown): string {
  const e = err as { cause?: unknown; lineno?: number; colno?: number };
  let cause: unknown = err;
  // nunjucks wraps an error once per template level; the innermost one is what happened.
  while (cause && typeof cause === 'object' && (cause as { cause?: unknown }).cause)
    cause = (cause as { cause: unknown }).cause;
  let what = 'the template could not be rendered';
  if (cause instanceof TemplateDataError || cause instanceof TemplateLimitError) what = cause.message;
  else if (cause instanceof Error && SAFE_RUNTIME_MESSAGE.test(cause.message)) what = cause.message;
  else if (cause instanceof Error) what = `the template raised ${cause.name === 'Error' ? 'an error' : cause.name}`;
  const where = e?.lineno ? ` (line ${e.lineno}${e.colno ? `, column ${e.colno}` : ''})` : '';
  return `${what}${where}`;
}
