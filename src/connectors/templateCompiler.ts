// Owns compiling template text to nunjucks's render functions, with one change to nunjucks's code
// generation: `~` and `+` call the runtime's `joinBounded` instead of JavaScript's `+`. nunjucks
// compiles them to plain `+`, which builds a lazy string of any length for free (doubling a string
// 30 times takes 30 steps) that later operations would then have to allocate in one piece; with
// every join checked, no string in a render ever exceeds the output limit.
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
  const ast = transformer.transform(internals.parser.parse(source, [], { autoescape: false }), []);
  compiler.compile(ast);
  // The same step nunjucks.Template takes with its own generated code: the text is nunjucks's, not the template's.
  return new Function(compiler.getCode())() as Record<string, unknown>;
}
