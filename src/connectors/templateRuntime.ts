// Owns the sandboxed nunjucks runtime: member and name lookups reach own data only, and allowed methods.
import nunjucks from 'nunjucks';
import {
  boundedLiteral,
  checkArrayMethod,
  checkResult,
  checkStringMethod,
  countPrinted,
  joinBounded,
} from './templateLimits';

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

export const safeRuntime: NunjucksRuntime = Object.assign(Object.create(null), baseRuntime, {
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
