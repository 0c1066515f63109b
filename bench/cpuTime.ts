// Owns reading a server child's CPU time: the sum over its threads of the nanoseconds on CPU that the
// kernel keeps in /proc/<pid>/task/<tid>/schedstat (first field). Wall time on a shared machine moves
// with whatever else runs; the CPU a call cost the server moves much less, so an A/B of a few percent
// (metrics on/off) is told by it.
import fs from 'node:fs';

/** Nanoseconds the process `pid` has run on CPU so far, all threads; undefined where /proc has no schedstat. */
export function cpuNs(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let total = 0;
  for (const tid of tasks) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]);
    } catch {
      // a thread that ended between the listing and the read ran nothing since
    }
  }
  return total;
}
