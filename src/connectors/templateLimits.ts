// Owns the size limits of one template render: how long a rendered value may be, how many items
// range() may make, and how big a string a string method or filter may build. Sizes are checked
// before the string is built where the size is known in advance (padStart, padEnd, repeat, range,
// center, indent, replace, join, ~ and +, list and dict literals), and on every printed value and
// every method or filter result otherwise. Time is bounded elsewhere: templates render in a worker
// that is terminated at CONNECTOR_TIMEOUT_MS.

/** range() makes at most this many items; a loop over more is refused before it starts. */
export const MAX_RANGE_ITEMS = 100_000;
/** Default for CONNECTOR_TEMPLATE_MAX_CHARS: above the 10 MiB response cap, so response_body can pass a body on. */
export const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;

import { textSize } from './templateSize';

/** A render stopped at a limit; the message is fixed text with numbers only, safe to show. */
export class TemplateLimitError extends Error {
  override name = 'TemplateLimitError';
}

/** The limits of the render in progress (renders are synchronous, so one at a time per thread). */
const current = { maxChars: DEFAULT_MAX_CHARS, printed: 0 };

export function beginRender(maxChars: number): void {
  current.maxChars = maxChars;
  current.printed = 0;
}

function tooLong(what: string): TemplateLimitError {
  return new TemplateLimitError(
    `${what} would be longer than ${current.maxChars} characters (CONNECTOR_TEMPLATE_MAX_CHARS)`,
  );
}

/** A finished value, or a string about to be built of `length` characters. */
export function checkLength(length: number, what: string): void {
  if (length > current.maxChars) throw tooLong(what);
}

/** The size of a value as text, refused past the limit before any of that text is built. */
function checkText(value: unknown, what: string): number {
  const size = textSize(value, current.maxChars + 1);
  checkLength(size, what);
  return size;
}

/** Every `{{ … }}` output counts towards the rendered value's size, so the output is bounded while it grows. */
export function countPrinted(value: unknown): void {
  if (value === undefined || value === null || typeof value === 'function') return;
  current.printed += typeof value === 'string' ? value.length : textSize(value, current.maxChars + 1);
  if (current.printed > current.maxChars) throw tooLong('the rendered value');
}

/** Every list and dict a template writes (`[…]`, `{…}`): refused once its text would pass the limit. */
export function boundedLiteral<T>(value: T): T {
  checkText(value, 'a list or dict');
  return value;
}

/** A string or filter result: refused when longer than the limit. */
export function checkResult<T>(value: T, what: string): T {
  if (typeof value === 'string') checkLength(value.length, what);
  return value;
}

/** `~` and `+` in a template: JavaScript's `+`, refused when the joined string would be over the limit. */
export function joinBounded(left: unknown, right: unknown, concat: boolean): unknown {
  if (concat || typeof left !== 'number' || typeof right !== 'number') {
    checkLength(checkText(left, 'joining strings') + checkText(right, 'joining strings'), 'joining strings');
  }
  return concat ? `${left}${right}` : (left as number) + (right as number);
}

function occurrences(text: string, part: string): number {
  if (part === '') return text.length + 1;
  let count = 0;
  for (let at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length)) count++;
  return count;
}

/** The longest result replacing `old` by `replacement` (at most `limit` times) in `text` can have: checked before replacing. */
function checkReplace(text: unknown, old: unknown, replacement: unknown, limit: number, what: string): void {
  if ((typeof text !== 'string' && !(text instanceof Object)) || (typeof old !== 'string' && typeof old !== 'number'))
    return;
  const [t, o, r] = [String(text), String(old), String(replacement)];
  // An empty search text is inserted between every character, whatever the limit.
  const times = o === '' ? t.length + 1 : Math.min(limit, occurrences(t, o));
  checkLength(t.length + times * Math.max(0, r.length - o.length), what);
}

/** String methods whose result size an argument chooses: the size is checked before the call. */
export function checkStringMethod(text: string, name: string, args: unknown[]): void {
  // Client data may be longer than the limit (BODY_LIMIT_BYTES is separate); splitting such a text
  // into one item per character would be one allocation of many times its size.
  if (text.length > current.maxChars) {
    throw new TemplateLimitError(
      `${name}() was called on a text longer than ${current.maxChars} characters (CONNECTOR_TEMPLATE_MAX_CHARS)`,
    );
  }
  // A list or dict given where text is expected is turned into text first.
  for (const arg of args) if (arg !== null && typeof arg === 'object') checkText(arg, `${name}()'s argument`);
  if (name === 'padStart' || name === 'padEnd') checkLength(Math.max(text.length, Number(args[0]) || 0), `${name}()`);
  if (name === 'repeat') checkLength(text.length * (Number(args[0]) || 0), 'repeat()');
  if (name === 'replace' || name === 'replaceAll')
    checkReplace(text, args[0], args[1], name === 'replaceAll' ? Infinity : 1, `${name}()`);
}

/** Joining a list allocates the whole result at once: its size is checked from the items first. */
function checkJoin(items: unknown, separator: unknown, what: string): void {
  if (!Array.isArray(items)) return;
  let length = Math.max(0, items.length - 1) * (typeof separator === 'string' ? separator.length : 1);
  for (const item of items) {
    length += textSize(item, current.maxChars + 1);
    checkLength(length, what);
  }
}

export function checkArrayMethod(items: unknown[], name: string, args: unknown[]): void {
  if (name === 'join') checkJoin(items, args[0] ?? ',', 'join()');
}

/** nunjucks's range(), refusing more than MAX_RANGE_ITEMS items before making any. */
export function boundedRange(original: (...args: unknown[]) => unknown[]) {
  return (...args: unknown[]): unknown[] => {
    const [start, stop, step] =
      args.length < 2 ? [0, Number(args[0]), 1] : [Number(args[0]), Number(args[1]), Number(args[2]) || 1];
    const items = step > 0 ? (stop - start) / step : (start - stop) / -step;
    if (items > MAX_RANGE_ITEMS) throw new TemplateLimitError(`range() may make at most ${MAX_RANGE_ITEMS} items`);
    return original(...args);
  };
}

/** Built-in filters with a size argument (its position after the input): counts and widths are bounded first. */
const SIZE_ARGUMENTS: Record<string, { index: number; counts: boolean }> = {
  center: { index: 0, counts: false },
  batch: { index: 0, counts: true },
  slice: { index: 0, counts: true },
};

/** Checks a built-in filter's call before it runs; `args` are the filter's arguments after its input. */
export function checkFilterArguments(name: string, input: unknown, args: unknown[]): void {
  if (name === 'join') checkJoin(input, args[0] ?? '', 'the join filter');
  // indent puts `width` spaces before every line: lines × width.
  if (name === 'indent' && typeof input === 'string')
    checkLength(input.length + (occurrences(input, '\n') + 1) * (Number(args[0]) || 4), 'the indent filter');
  if (name === 'replace')
    checkReplace(input, args[0], args[1], Number(args[2]) > 0 ? Number(args[2]) : Infinity, 'the replace filter');
  const size = SIZE_ARGUMENTS[name];
  if (!size) return;
  const n = Number(args[size.index]) || 0;
  if (size.counts && n > MAX_RANGE_ITEMS)
    throw new TemplateLimitError(`the ${name} filter may make at most ${MAX_RANGE_ITEMS} groups`);
  if (!size.counts) checkLength(n, `the ${name} filter's width`);
}
