// Owns the size of a template value as text: about how many characters printing it, joining it or
// turning it into JSON makes, counted without building that text. Lists and dicts can share items
// (`{% set b = [a, a, a] %}{% set c = [b, b, b] %}` grows tenfold a line while costing nothing), so a
// value's size is remembered per object and every list or dict a template writes is refused once
// its size passes the limit: no text a render can make is then far beyond it.

/** Numbers, booleans and nothing: a generous count of the characters they print as. */
const SCALAR = 24;
/** Per member of a list or dict: a comma, quotes, a colon. */
const SEPARATOR = 4;

const sizes = new WeakMap<object, number>();

/**
 * The size of a value as text; stops counting (and answers a size over `budget`) once `budget` is
 * passed, so a huge value costs no more than the budget to measure.
 */
export function textSize(value: unknown, budget: number): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? 0 : SCALAR;
  const known = sizes.get(value);
  if (known !== undefined) return known;
  let total = 0;
  // A SafeString (nunjucks's marked-safe text) is an object holding its text in `val`.
  if (typeof (value as { val?: unknown }).val === 'string' && !Array.isArray(value))
    total = (value as { val: string }).val.length;
  else {
    for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
      total += SEPARATOR + (typeof key === 'string' ? key.length : 0) + textSize(item, budget - total);
      if (total > budget) return total;
    }
  }
  sizes.set(value, total);
  return total;
}
