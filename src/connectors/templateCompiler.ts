// Owns compiling template text to nunjucks's render functions, with two changes to nunjucks's code
// generation: `~` and `+` call the runtime's `joinBounded` instead of JavaScript's `+`, and every
// list and dict literal passes through `boundedLiteral`. nunjucks compiles them to plain `+` and
// `[…]`, which build a lazy string, or a list of shared items, of any size for free (doubling a
// string 30 times takes 30 steps) that printing or joining would then allocate in one piece; with
// every join and literal checked, no text a render can make is far beyond the output limit.
import nunjucks from 'nunjucks';

interface AstNode {
  left: unknown;
  right: unknown;
}

type CompileMethod = (this: NunjucksCompiler, node: never, frame: unknown) => void;

interface NunjucksCompiler {
  compile(node: unknown, frame?: unknown): void;
  _emit(code: string): void;
  compileAdd: CompileMethod;
  compileConcat: CompileMethod;
  compileArray: CompileMethod;
  compileDict: CompileMethod;
}

const compilerProto = (nunjucks as unknown as { compiler: { Compiler: { prototype: NunjucksCompiler } } }).compiler
  .Compiler.prototype;

function emitJoin(c: NunjucksCompiler, node: AstNode, frame: unknown, concat: boolean): void {
  c._emit('runtime.joinBounded(');
  c.compile(node.left, frame);
  c._emit(', ');
  c.compile(node.right, frame);
  c._emit(`, ${concat})`);
}

function wrapped(original: CompileMethod): CompileMethod {
  return function (this: NunjucksCompiler, node, frame) {
    this._emit('runtime.boundedLiteral(');
    original.call(this, node, frame);
    this._emit(')');
  };
}

/**
 * Compiles a template with the bounded code generation. nunjucks has no hook for it, so the four
 * generator methods are swapped for the duration of this one synchronous compile and then restored:
 * nothing else in the process ever sees them.
 */
export function compileBounded(source: string, env: nunjucks.Environment): nunjucks.Template {
  const saved = {
    compileAdd: compilerProto.compileAdd,
    compileConcat: compilerProto.compileConcat,
    compileArray: compilerProto.compileArray,
    compileDict: compilerProto.compileDict,
  };
  Object.assign(compilerProto, {
    compileAdd(this: NunjucksCompiler, node: AstNode, frame: unknown) {
      emitJoin(this, node, frame, false);
    },
    compileConcat(this: NunjucksCompiler, node: AstNode, frame: unknown) {
      emitJoin(this, node, frame, true);
    },
    compileArray: wrapped(saved.compileArray),
    compileDict: wrapped(saved.compileDict),
  });
  try {
    return new nunjucks.Template(source, env, undefined, true);
  } finally {
    Object.assign(compilerProto, saved);
  }
}
