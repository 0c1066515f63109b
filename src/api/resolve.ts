// Owns finding the operation a method and path name, as a direct request and a batch subrequest both
// need it: 404 for an unknown path, 405 (with Allow) for another method, 400 for a bad percent-encoding.
import { errors } from '../errors';
import type { PathMatcher } from './match';
import type { Operation } from './operation';

export interface Resolved<T> {
  entry: T;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
}

/** `path` is relative to /rest; `where` is how the error names it. HEAD is answered as GET. */
export function resolveOperation<T extends { op: Operation }>(
  matcher: PathMatcher<T>,
  method: string,
  path: string,
  where: string,
): Resolved<T> {
  const found = matcher.match(path);
  const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const hit = found.find((f) => f.entry.op.method === m);
  if (!hit) {
    if (found.length === 0) throw errors.notFound(`No resource at ${where}`);
    throw errors.methodNotAllowed(method.toUpperCase(), where, [
      ...new Set(found.map((f) => f.entry.op.method.toUpperCase())),
    ]);
  }
  const params: Record<string, string> = {};
  try {
    for (const name of Object.keys(hit.params)) params[name] = decodeURIComponent(hit.params[name]);
  } catch {
    throw errors.badInput('The request path holds a malformed percent-encoding');
  }
  return { entry: hit.entry, params };
}
