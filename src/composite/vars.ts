// Owns composite variables: `${name}` templates compiled once at plan time into renderers, and the
// JSONPath that sets a variable — restricted to member and index steps so a path is data, never code.
import { JSONPath } from 'jsonpath-plus';

export type Vars = Map<string, unknown>;
/** Renders a compiled template against the variables known so far. */
export type Renderer = (vars: Vars) => unknown;

const REF = /\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** The names a string refers to; throws for `${…}` that is not a plain identifier. */
export function referencedNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(REF)) {
    if (!NAME.test(m[1])) throw new TemplateError(`"\${${m[1].slice(0, 40)}}" is not a variable reference (names are identifiers)`);
    names.push(m[1]);
  }
  return names;
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Compiles a string template. `encode` is applied to each substituted value (percent-encoding in a
 * uri). A string that is exactly `${name}` keeps the value's JSON type unless `textOnly`.
 */
export function compileString(text: string, declared: (name: string) => boolean, encode?: (s: string) => string, textOnly = false): Renderer | undefined {
  const names = referencedNames(text);
  if (names.length === 0) return undefined;
  for (const name of names) if (!declared(name)) throw new TemplateError(`Variable "${name}" is not declared by an earlier subrequest`);
  const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(text);
  if (whole && !textOnly) return (vars) => vars.get(whole[1]);
  const parts = text.split(REF); // literal, name, literal, name, …, literal
  return (vars) => {
    let out = parts[0];
    for (let i = 1; i < parts.length; i += 2) {
      const s = valueText(vars.get(parts[i]));
      out += (encode ? encode(s) : s) + parts[i + 1];
    }
    return out;
  };
}

/**
 * Compiles any JSON value into a renderer that rebuilds only the parts holding variables; a value
 * without variables is returned as is (no copy, no scan at execution time).
 */
export function compileValue(value: unknown, declared: (name: string) => boolean): Renderer | undefined {
  if (typeof value === 'string') return compileString(value, declared);
  if (Array.isArray(value)) {
    const items = value.map((v) => compileValue(v, declared));
    if (items.every((r) => r === undefined)) return undefined;
    return (vars) => value.map((v, i) => (items[i] ? (items[i] as Renderer)(vars) : v));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, v, compileValue(v, declared)] as const);
    if (entries.every(([, , r]) => r === undefined)) return undefined;
    return (vars) => {
      const out: Record<string, unknown> = {};
      for (const [k, v, r] of entries) out[k] = r ? r(vars) : v;
      return out;
    };
  }
  return undefined;
}

/** `$`, then `.name`, `['name']`, `["name"]`, `[n]` steps only: no filters, scripts, wildcards or recursion. */
const PATH = /^\$(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[(?:\d{1,6}|'[^'\\()@?]{1,100}'|"[^"\\()@?]{1,100}")\])*$/;

export function checkVarPath(path: string): string | undefined {
  if (/[?()@`]|\.\.|\*/.test(path)) return 'script, filter, wildcard and recursive-descent expressions are not allowed';
  if (!PATH.test(path)) return 'only $ followed by .member, [\'member\'] and [index] steps is allowed';
  return undefined;
}

/** Evaluates a checked path; undefined when it matches nothing. Evaluation of expressions is off. */
export function evaluateVarPath(path: string, body: unknown): unknown {
  if (body === null || typeof body !== 'object') return undefined;
  const result = JSONPath({ path, json: body as object, eval: false, wrap: true }) as unknown[];
  return result.length > 0 ? result[0] : undefined;
}
