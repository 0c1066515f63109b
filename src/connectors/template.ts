// Owns connector templates: Jinja2 syntax through nunjucks, made safe. nunjucks alone is no sandbox
// (`''.constructor.constructor('return process')()` runs code), so every compiled template renders
// with a runtime whose member and name lookups only reach own data properties, never a function's
// members, and never `constructor`, `prototype` or `__*__` names. Autoescaping is off: the output is
// URLs, headers and JSON, not HTML. Client data only ever enters as context, never as template text.
// Sizes are bounded by templateLimits.ts; time by rendering in a worker (renderPool.ts).
import nunjucks from 'nunjucks';
import { compileBounded } from './templateCompiler';
import { JINJA_HELPERS, TemplateDataError } from './templateFilters';
import {
  DEFAULT_MAX_CHARS,
  TemplateLimitError,
  beginRender,
  boundedRange,
  checkArrayMethod,
  checkFilterArguments,
  checkLength,
  checkResult,
  boundedLiteral,
  checkStringMethod,
  countPrinted,
  joinBounded,
} from './templateLimits';

export { TemplateDataError };

const BLOCKED_NAMES = new Set(['constructor', 'prototype', 'caller', 'callee', 'arguments', 'call', 'apply', 'bind']);

export function isBlockedName(name: string): boolean {
  return BLOCKED_NAMES.has(name) || name.startsWith('__');
}

// Methods a template may call on text and lists; everything else inherited is invisible.
const STRING_METHODS = new Set([
  'toUpperCase',
  'toLowerCase',
  'trim',
  'trimStart',
  'trimEnd',
  'split',
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'slice',
  'substring',
  'replace',
  'replaceAll',
  'padStart',
  'padEnd',
  'repeat',
]);
const ARRAY_METHODS = new Set(['join', 'includes', 'indexOf', 'slice']);

interface NunjucksRuntime {
  memberLookup(obj: unknown, val: unknown): unknown;
  suppressValue(val: unknown, autoescape: boolean): unknown;
  contextOrFrameLookup(context: unknown, frame: unknown, name: string): unknown;
  SafeString: new (s: string) => object;
}
const baseRuntime = (nunjucks as unknown as { runtime: NunjucksRuntime }).runtime;

function boundMethod(target: unknown, method: (...args: unknown[]) => unknown) {
  return (...args: unknown[]) => {
    const result = method.apply(target, args);
    return typeof result === 'function' ? undefined : result;
  };
}

/** `obj[key]` as a template may see it: own data only; functions have no members. */
export function safeLookup(obj: unknown, key: unknown): unknown {
  if (obj === undefined || obj === null || typeof obj === 'function') return undefined;
  const name = String(key);
  if (isBlockedName(name)) return undefined;
  if (typeof obj === 'string' || obj instanceof baseRuntime.SafeString) {
    const text = String(obj);
    if (name === 'length' || /^\d+$/.test(name)) return (text as unknown as Record<string, unknown>)[name];
    if (!STRING_METHODS.has(name)) return undefined;
    const method = (String.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    return boundMethod(text, (...args: unknown[]) => {
      checkStringMethod(text, name, args);
      return checkResult(method.apply(text, args), `${name}()`);
    });
  }
  if (typeof obj !== 'object') return undefined;
  if (Array.isArray(obj) && ARRAY_METHODS.has(name)) {
    const method = (Array.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    return boundMethod(obj, (...args: unknown[]) => {
      checkArrayMethod(obj, name, args);
      return checkResult(method.apply(obj, args), `${name}()`);
    });
  }
  if (!Object.prototype.hasOwnProperty.call(obj, name)) return undefined;
  const value = (obj as Record<string, unknown>)[name];
  // Own functions (a cycler's `next`) stay callable with their object, as nunjucks does.
  return typeof value === 'function' ? boundMethod(obj, value as (...a: unknown[]) => unknown) : value;
}

interface ContextLike {
  ctx: Record<string, unknown>;
  env: { globals: Record<string, unknown> };
}
interface FrameLike {
  lookup(name: string): unknown;
}

const safeRuntime: NunjucksRuntime = Object.assign(Object.create(null), baseRuntime, {
  memberLookup: safeLookup,
  joinBounded,
  boundedLiteral,
  // A function printed would show its source; it renders as nothing.
  suppressValue: (val: unknown, autoescape: boolean) => {
    if (typeof val === 'function') return '';
    countPrinted(val);
    return baseRuntime.suppressValue(val, autoescape);
  },
  contextOrFrameLookup(context: ContextLike, frame: FrameLike, name: string): unknown {
    if (isBlockedName(name)) return undefined;
    const local = frame.lookup(name);
    if (local !== undefined) return local;
    if (Object.prototype.hasOwnProperty.call(context.ctx, name)) return context.ctx[name];
    if (Object.prototype.hasOwnProperty.call(context.env.globals, name)) return context.env.globals[name];
    return undefined;
  },
});

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

const environment = createEnvironment();

interface AstNode {
  typename: string;
  fields: string[];
  value?: unknown;
  lineno?: number;
  colno?: number;
  [field: string]: unknown;
}
const parser = (
  nunjucks as unknown as { parser: { parse(src: string, extensions: unknown[], opts: unknown): AstNode } }
).parser;

function walk(node: unknown, visit: (n: AstNode) => void): void {
  if (Array.isArray(node)) return node.forEach((n) => walk(n, visit));
  if (!node || typeof node !== 'object' || typeof (node as AstNode).typename !== 'string') return;
  const n = node as AstNode;
  visit(n);
  for (const field of n.fields) walk(n[field], visit);
  if (Array.isArray(n.children)) walk(n.children, visit);
}

const FORBIDDEN_TAGS: Record<string, string> = {
  Include: 'include',
  Extends: 'extends',
  Import: 'import',
  FromImport: 'from … import',
};

export interface CompileOptions {
  /** May the template call get_secret()? Only header, query and authentication values may. */
  secrets: boolean;
}

export class CompiledTemplate {
  constructor(
    private readonly template: nunjucks.Template,
    /** `pathParams.<key>` names the template reads, for the simple-connector path-parameter check. */
    readonly pathParams: ReadonlySet<string>,
    readonly source: string,
    /** May it call get_secret()? */
    readonly secrets: boolean,
  ) {}

  /** Renders synchronously, in this thread: only ever inside a render worker, or for small trusted input. */
  render(context: Record<string, unknown>, maxChars = DEFAULT_MAX_CHARS): string {
    beginRender(maxChars);
    const out = this.template.render(context);
    checkLength(out.length, 'the rendered value');
    return out;
  }
}

/** Compiles one template; throws an Error whose message says what is wrong (shown to the admin). */
export function compileTemplate(source: string, opts: CompileOptions): CompiledTemplate {
  let ast: AstNode;
  try {
    ast = parser.parse(source, [], { autoescape: false });
  } catch (err) {
    throw new Error(cleanMessage((err as Error).message));
  }
  const pathParams = new Set<string>();
  walk(ast, (n) => {
    if (FORBIDDEN_TAGS[n.typename]) throw new Error(`the {% ${FORBIDDEN_TAGS[n.typename]} %} tag is not allowed`);
    if (n.typename === 'Symbol' && n.value === 'get_secret' && !opts.secrets) {
      throw new Error('get_secret() may only be used in header, query parameter and authentication values');
    }
    if (n.typename === 'LookupVal') {
      const target = n.target as AstNode;
      const val = n.val as AstNode;
      if (target?.typename === 'Symbol' && target.value === 'pathParams' && val?.typename === 'Literal')
        pathParams.add(String(val.value));
    }
  });
  let template: nunjucks.Template;
  try {
    template = compileBounded(source, environment);
  } catch (err) {
    throw new Error(cleanMessage((err as Error).message));
  }
  const compiled = template as unknown as {
    rootRenderFunc: (env: unknown, ctx: unknown, frame: unknown, runtime: unknown, cb: unknown) => void;
  };
  const root = compiled.rootRenderFunc;
  compiled.rootRenderFunc = (env, ctx, frame, _runtime, cb) => root(env, ctx, frame, safeRuntime, cb);
  return new CompiledTemplate(template, pathParams, source, opts.secrets);
}

function cleanMessage(message: string): string {
  return message
    .replace(/^\(unknown path\)\s*/, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

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
