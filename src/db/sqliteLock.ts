// Owns "one process per SQLite file": a lock file `<database>.lock` beside the database, created
// exclusively at start with the owner's pid, removed when the process exits. Two processes on one
// file each keep their own id counters and caches and hand out the same ids; the second is refused.
import fs from 'node:fs';
import os from 'node:os';

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
}

interface LockOwner {
  pid: number;
  /** The process's start time (Linux: clock ticks after boot), so a reused pid is not taken for the owner. */
  started?: string;
  host: string;
}

/** Locks taken by this process: path → the owner record written. */
const held = new Map<string, string>();

/** When a process started, from /proc (Linux); undefined where that cannot be read. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readText(lockPath: string): string | undefined {
  try {
    return fs.readFileSync(lockPath, 'utf8');
  } catch {
    return undefined;
  }
}

function parseOwner(text: string | undefined): LockOwner | undefined {
  try {
    const owner = JSON.parse(text ?? '') as LockOwner;
    return Number.isSafeInteger(owner.pid) && owner.pid > 0 ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the lock file with its whole content at once: written beside it, then hard-linked into
 * place (link fails if the name exists), so no other process ever reads a half-written lock.
 */
function createLock(lockPath: string, record: string): boolean {
  const temp = `${lockPath}.${process.pid}.tmp`;
  fs.writeFileSync(temp, record);
  try {
    fs.linkSync(temp, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/**
 * Whether the process that wrote the lock is still running. A lock from another host cannot be
 * checked and counts as held; a pid that is alive but started at another time is a reused pid (a
 * container restarted with the same pid 1, say), so the lock is stale.
 */
function ownerRunning(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  if (!isAlive(owner.pid)) return false;
  const started = startTimeOf(owner.pid);
  return owner.started === undefined || started === undefined || owner.started === started;
}

function release(): void {
  for (const [lockPath, record] of held) {
    try {
      // Only our own lock: never one another process took after ours was found stale.
      if (fs.readFileSync(lockPath, 'utf8') === record) fs.unlinkSync(lockPath);
    } catch {
      // Already gone.
    }
  }
  held.clear();
}

/**
 * Takes the lock on `filename` for this process, or throws DatabaseLockedError naming the file and
 * the process holding it. A lock left by a process that is gone (kill -9, power loss) is taken over.
 * Taking it again in the process that holds it is allowed.
 */
export function lockSqliteFile(filename: string): void {
  const lockPath = `${filename}.lock`;
  if (held.has(lockPath)) return;
  const record = JSON.stringify({
    pid: process.pid,
    started: startTimeOf(process.pid),
    host: os.hostname(),
  } satisfies LockOwner);
  for (let attempt = 0; attempt < 2; attempt++) {
    let created: boolean;
    try {
      created = createLock(lockPath, record);
    } catch (err) {
      throw new DatabaseLockedError(`cannot create the lock file ${lockPath}: ${(err as Error).message}`);
    }
    if (created) {
      if (held.size === 0) process.once('exit', release);
      held.set(lockPath, record);
      return;
    }
    const text = readText(lockPath);
    const owner = parseOwner(text);
    if (owner && ownerRunning(owner)) {
      throw new DatabaseLockedError(
        `the SQLite database ${filename} is in use by another process (pid ${owner.pid}${owner.host === os.hostname() ? '' : ` on ${owner.host}`}); SQLite mode allows one server process per file`,
      );
    }
    // Stale (its process is gone) or corrupt: removed, then taken anew — unless another process
    // replaced it meanwhile (two starting at once); the create then lets only one of them win.
    if (readText(lockPath) === text) fs.rmSync(lockPath, { force: true });
  }
  throw new DatabaseLockedError(
    `the SQLite database ${filename} was locked by another process starting at the same moment`,
  );
}
