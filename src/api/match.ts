// Owns matching a path against the route table by segments — the one rule for which operation a path
// is, used alike by the HTTP router (and its 404/405) and the composite planner.
import type { Operation } from './operation';

type Segment = { literal: string } | { param: string };

export interface PathMatch<T> {
  entry: T;
  /** Raw (still percent-encoded) segment text for each path parameter. */
  params: Record<string, string>;
}

function segmentsOf(op: Operation): Segment[] {
  return `/${op.api}/v1${op.path}`
    .split('/')
    .slice(1)
    .map((s) => {
      const m = /^\{(\w+)\}$/.exec(s);
      return m ? { param: m[1] } : { literal: s };
    });
}

/** Matches paths relative to /rest (`/common/v1/activities/xc:1`) against operations. */
export class PathMatcher<T extends { op: Operation }> {
  private readonly table: Array<{ entry: T; segments: Segment[] }>;

  constructor(entries: T[]) {
    this.table = entries.map((entry) => ({ entry, segments: segmentsOf(entry.op) }));
  }

  /**
   * Every operation whose path matches. `isOpaque(segment)` marks a segment whose value is not
   * known yet (a composite variable): it may stand only where a parameter stands.
   */
  match(path: string, isOpaque: (segment: string) => boolean = () => false): Array<PathMatch<T>> {
    const parts = path.split('/').slice(1);
    const found: Array<PathMatch<T>> = [];
    for (const { entry, segments } of this.table) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const seg = segments[i];
        if ('literal' in seg) ok = seg.literal === parts[i] && !isOpaque(parts[i]);
        else if (parts[i] === '') ok = false;
        else params[seg.param] = parts[i];
      }
      if (ok) found.push({ entry, params });
    }
    return found;
  }
}
