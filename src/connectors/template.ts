// Owns connector templates: Jinja2 syntax through nunjucks, made safe. nunjucks alone is no sandbox
// (`''.constructor.constructor('return process')()` runs code), so every compiled template renders
// with a runtime whose member and name lookups only reach own data properties, never a function's
// members, and never `constructor`, `prototype` or `__*__` names. Autoescaping is off: the output is
// URLs, headers and JSON, not HTML. Client data only ever enters as context, never as template text.
// Sizes are bounded by templateLimits.ts; time by rendering in a worker (renderPool.ts).
import nunjucks from 'nunjucks';
import { compileBounded } from './templateCompiler';
import { environment } from './templateEnvironment';
import { TemplateDataError } from './templateFilters';
import { DEFAULT_MAX_CHARS, beginRender, checkLength } from './templateLimits';
import { safeRuntime } from './templateRuntime';

export { TemplateDataError };

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
