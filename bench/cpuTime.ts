// Owns reading a server child's CPU time: the sum over its threads of the nanoseconds on CPU that the
// kernel keeps in /proc/<pid>/task/<tid>/schedstat (first field). Beside a call's wall time it shows
// what the call cost the server, work done after answering included.
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
