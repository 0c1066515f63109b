// Owns composite variables: `${name}` templates compiled once at plan time into renderers, and the
// JSONPath that sets a variable — restricted to member and index steps, parsed at plan time into
// member names and followed through own properties: a path is data, never code. Rendering is
// charged to a budget before anything is built, so a composite cannot amplify itself.

export type Vars = Map<string, unknown>;
/** Renders a compiled template against the variables known so far, charging what it builds to `budget`. */
export type Renderer = (vars: Vars, budget: RenderBudget) => unknown;

const REF = /\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The names a string refers to; throws for `${…}` that is not a plain identifier. */
export function referencedNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(REF)) {
    if (!NAME.test(m[1]))
      throw new TemplateError(`"\${${m[1].slice(0, 40)}}" is not a variable reference (names are identifiers)`);
    names.push(m[1]);
  }
  return names;
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Below this body size a composite may still render as much as a body of this size could. */
export const EXPANSION_FLOOR_CHARS = 64 * 1024;

/** A rendered value would pass a bound of its RenderBudget. */
export class ExpansionError extends Error {
  override name = 'ExpansionError';
  constructor(
    message: string,
    readonly properties: Record<string, number>,
  ) {
    super(message);
  }
}

/**
 * What rendering may build for one composite: each rendered value at most `perValue` characters,
 * all of them together at most `total`. A value's size is worked out from the sizes of its parts
 * BEFORE it is built, so `${b}` repeated thousands of times is refused without building anything.
 * A whole-value reference (`"${name}"`) copies nothing here but is charged too: what it adds to a
 * body is serialized, validated and stored later.
 */
export class RenderBudget {
  private spent = 0;
  /** Variable name → its value as text: a non-string value is serialized once per attempt. */
  private readonly texts = new Map<string, string>();

  constructor(
    readonly perValue: number,
    readonly total: number,
  ) {}

  /** `multiple` × the composite's own size (at least the floor), each value at most `perValue`. */
  static forBody(bodySize: number, multiple: number, perValue: number): RenderBudget {
    return new RenderBudget(perValue, multiple * Math.max(bodySize, EXPANSION_FLOOR_CHARS));
  }

  /** A fresh attempt of the same composite renders afresh (its variables are set again). */
  reset(): void {
    this.spent = 0;
    this.texts.clear();
  }

  text(name: string, vars: Vars): string {
    let text = this.texts.get(name);
    if (text === undefined) this.texts.set(name, (text = valueText(vars.get(name))));
    return text;
  }

  /** Charges a value of `size` characters about to be built; throws ExpansionError past a bound. */
  charge(size: number): void {
    if (size > this.perValue) {
      throw new ExpansionError(
        `a rendered value would be ${size} characters, more than the limit of ${this.perValue} for one value`,
        { size, limit: this.perValue },
      );
    }
    if (this.spent + size > this.total) {
      throw new ExpansionError(
        `rendering variables would build more than ${this.total} characters for this composite (COMPOSITE_MAX_EXPANSION times its size)`,
        { size: this.spent + size, limit: this.total },
      );
    }
    this.spent += size;
  }
}

/**
 * A whole-value reference: the value, its size charged. An object or array comes as a copy made from
 * its text: the body it lands in may be changed in place by validation (unknown members dropped under
 * GW-UnknownPropertyHandling: ignore), and that must not reach the earlier subresponse it was read from.
 */
function wholeValue(name: string): Renderer {
  return (vars, budget) => {
    const text = budget.text(name, vars);
    budget.charge(text.length);
    const value = vars.get(name);
    return typeof value === 'object' && value !== null ? JSON.parse(text) : value;
  };
}

/** A string template; a string that is exactly `${name}` keeps the value's JSON type. */
export function compileString(text: string, declared: (name: string) => boolean): Renderer | undefined {
  const names = referencedNames(text);
  if (names.length === 0) return undefined;
  checkDeclared(names, declared);
  const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(text);
  if (whole) return wholeValue(whole[1]);
  return interpolate(text.split(REF));
}

/**
 * A uri path segment holding variables, rendered as the decoded segment the route receives: the
 * literal text is percent-decoded once here, and a value is inserted as it is, so it always stays
 * inside this one segment (the route was matched before any value was known).
 */
export function compileSegment(segment: string, declared: (name: string) => boolean): Renderer | undefined {
  const names = referencedNames(segment);
  if (names.length === 0) return undefined;
  checkDeclared(names, declared);
  let parts: string[];
  try {
    parts = segment.split(REF).map((part, i) => (i % 2 === 0 ? decodeURIComponent(part) : part));
  } catch {
    throw new TemplateError('uri holds a malformed percent-encoding');
  }
  if (parts.length === 3 && parts[0] === '' && parts[2] === '') {
    const name = parts[1];
    return (vars, budget) => {
      const text = budget.text(name, vars);
      budget.charge(text.length);
      return text;
    };
  }
  return interpolate(parts);
}

function checkDeclared(names: string[], declared: (name: string) => boolean): void {
  for (const name of names)
    if (!declared(name)) throw new TemplateError(`Variable "${name}" is not declared by an earlier subrequest`);
}

/** `parts` alternates literal text and variable names: literal, name, literal, …, literal. */
function interpolate(parts: string[]): Renderer {
  let literal = 0;
  for (let i = 0; i < parts.length; i += 2) literal += parts[i].length;
  return (vars, budget) => {
    // The whole size first, from the parts' sizes: nothing is built for a value past a bound.
    let size = literal;
    for (let i = 1; i < parts.length; i += 2) size += budget.text(parts[i], vars).length;
    budget.charge(size);
    let out = parts[0];
    for (let i = 1; i < parts.length; i += 2) out += budget.text(parts[i], vars) + parts[i + 1];
    return out;
  };
}

/**
 * Compiles any JSON value into a renderer that rebuilds only the parts holding variables; a value
 * without variables is returned as is (no copy, no scan at execution time). Most bodies hold none,
 * so nothing is allocated until a variable is found.
 */
export function compileValue(value: unknown, declared: (name: string) => boolean): Renderer | undefined {
  if (typeof value === 'string') return value.includes('${') ? compileString(value, declared) : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    let items: Array<Renderer | undefined> | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = compileValue(value[i], declared);
      if (r) (items ??= new Array<Renderer | undefined>(value.length))[i] = r;
    }
    if (!items) return undefined;
    const renderers = items;
    return (vars, budget) => value.map((v, i) => (renderers[i] ? (renderers[i] as Renderer)(vars, budget) : v));
  }
  const record = value as Record<string, unknown>;
  let renderers: Map<string, Renderer> | undefined;
  for (const k of Object.keys(record)) {
    const r = compileValue(record[k], declared);
    if (r) (renderers ??= new Map()).set(k, r);
  }
  if (!renderers) return undefined;
  const keys = Object.keys(record);
  const found = renderers;
  return (vars, budget) => {
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const r = found.get(k);
      out[k] = r ? r(vars, budget) : record[k];
    }
    return out;
  };
}

/** `$`, then `.name`, `['name']`, `["name"]`, `[n]` steps only: no filters, scripts, wildcards or recursion. */
const PATH = /^\$(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[(?:\d{1,6}|'[^'\\()@?]{1,100}'|"[^"\\()@?]{1,100}")\])*$/;
const STEP = /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d{1,6})\]|\['([^']*)'\]|\["([^"]*)"\]/g;

export function checkVarPath(path: string): string | undefined {
  if (/[?()@`]|\.\.|\*/.test(path)) return 'script, filter, wildcard and recursive-descent expressions are not allowed';
  if (!PATH.test(path)) return "only $ followed by .member, ['member'] and [index] steps is allowed";
  return undefined;
}

/**
 * A var path as its member names, worked out once when the composite is planned. The path must
 * pass `checkVarPath`; nothing of it is ever evaluated as an expression.
 */
export function compileVarPath(path: string): string[] {
  const problem = checkVarPath(path);
  if (problem) throw new TemplateError(problem);
  return [...path.slice(1).matchAll(STEP)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
}

/**
 * Follows member steps from a response body (an object) through own properties only — never a
 * prototype; a string has its characters and length. Undefined when nothing matches.
 */
export function readVarPath(steps: readonly string[], body: unknown): unknown {
  if (body === null || typeof body !== 'object') return undefined;
  let value: unknown = body;
  for (const step of steps) {
    const container = (value !== null && typeof value === 'object') || typeof value === 'string';
    if (!container || !Object.prototype.hasOwnProperty.call(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}
