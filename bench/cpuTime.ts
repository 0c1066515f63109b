// Owns reading CPU time from /proc: a server child's (the sum over its threads of the nanoseconds on CPU
// that the kernel keeps in /proc/<pid>/task/<tid>/schedstat, first field), PostgreSQL's processes', and
// the machine's (/proc/stat). Beside a call's wall time it shows what the call cost the server, work
// done after answering included; beside a load run's rate, where the machine's CPU went.
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

/** Nanoseconds on CPU so far of every PostgreSQL process on this machine (its backends and helpers). */
export function postgresCpuNs(): number {
  let total = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      total += cpuNs(Number(pid)) ?? 0;
    } catch {
      // a process that ended between the listing and the read
    }
  }
  return total;
}

/** The machine's CPU time so far in clock ticks, all cores: in all, idle (with I/O wait) and stolen by the hypervisor. */
export function machineTicks(): { total: number; idle: number; steal: number } | undefined {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const [, , , idle, iowait, , , steal] = fields;
    return { total: fields.reduce((a, b) => a + b, 0), idle: idle + iowait, steal };
  } catch {
    return undefined;
  }
}
