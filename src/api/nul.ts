// Owns refusing U+0000 at the edge: PostgreSQL cannot store it in text (SQLSTATE 22021), SQLite
// would, and data that one database keeps and the other refuses cannot be copied between them — so
// no string holding it is let in, on either database, in bodies, query values or path segments.
import { errors } from '../errors';

export const NUL = '\u0000';

/** Where the first string holding U+0000 is (`body/data/attributes/subject`; a member name counts), or undefined. */
export function findNul(value: unknown, where: string): string | undefined {
  // Iterative, like the body's depth walk: no recursion however deep a value nests.
  const stack: Array<[unknown, string]> = [[value, where]];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (v.includes(NUL)) return path;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`]);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (key.includes(NUL)) return `${path} (a member name)`;
      stack.push([(v as Record<string, unknown>)[key], `${path}/${key}`]);
    }
  }
  return undefined;
}

export function nulRefused(field: string) {
  return errors.badInput(`${field} holds a NUL character (U+0000), which is not allowed in any text`, [
    { message: 'NUL character not allowed', properties: { field } },
  ]);
}

/** Throws a 400 naming the field when any string in `value` holds U+0000. */
export function refuseNul(value: unknown, where: string): void {
  const field = findNul(value, where);
  if (field !== undefined) throw nulRefused(field);
}
