// Owns compiling template text to nunjucks's render functions, with two changes to nunjucks's code
// generation: `~` and `+` call the runtime's `joinBounded` instead of JavaScript's `+`, and every
// list and dict literal passes through `boundedLiteral`. nunjucks compiles them to plain `+` and
// `[…]`, which build a lazy string, or a list of shared items, of any size for free (doubling a
// string 30 times takes 30 steps) that printing or joining would then allocate in one piece; with
// every join and literal checked, no text a render can make is far beyond the output limit.
import nunjucks from 'nunjucks';

// Not re-exported by nunjucks's index (and untyped); the same module nunjucks.compile uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const transformer = require('nunjucks/src/transformer') as { transform(ast: unknown, asyncFilters: unknown[], name?: string): unknown };

interface AstNode {
  left: unknown;
  right: unknown;
}

interface NunjucksCompiler {
  compile(node: unknown, frame?: unknown): void;
  getCode(): string;
  _emit(code: string): void;
  compileAdd(node: AstNode, frame: unknown): void;
  compileConcat(node: AstNode, frame: unknown): void;
  compileArray(node: unknown, frame: unknown): void;
  compileDict(node: unknown, frame: unknown): void;
}

const internals = nunjucks as unknown as {
  compiler: { Compiler: new (name: string | undefined, throwOnUndefined: boolean) => NunjucksCompiler };
  parser: { parse(src: string, extensions: unknown[], opts: unknown): unknown };
};

function emitJoin(c: NunjucksCompiler, node: AstNode, frame: unknown, concat: boolean): void {
  c._emit('runtime.joinBounded(');
  c.compile(node.left, frame);
  c._emit(', ');
  c.compile(node.right, frame);
  c._emit(`, ${concat})`);
}

/** The render functions of a template (what nunjucks.Template accepts as `{type: 'code'}`). */
export function compileToProps(source: string): Record<string, unknown> {
  const compiler = new internals.compiler.Compiler(undefined, false);
  compiler.compileAdd = (node, frame) => emitJoin(compiler, node, frame, false);
  compiler.compileConcat = (node, frame) => emitJoin(compiler, node, frame, true);
  for (const kind of ['compileArray', 'compileDict'] as const) {
    const original = compiler[kind].bind(compiler);
    compiler[kind] = (node, frame) => {
      compiler._emit('runtime.boundedLiteral(');
      original(node, frame);
      compiler._emit(')');
    };
  }
  const ast = transformer.transform(internals.parser.parse(source, [], { autoescape: false }), []);
  compiler.compile(ast);
  // The same step nunjucks.Template takes with its own generated code: the text is nunjucks's, not the template's.
  return new Function(compiler.getCode())() as Record<string, unknown>;
}
