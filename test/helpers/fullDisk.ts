// Real storage faults for tests: a small tmpfs (root only), filled to the last byte, and writes sent
// until the database finds no room.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Mounts a tmpfs of `size` (e.g. "3m") at `dir`; false where mounting is not allowed. */
export function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `file` until the file system refuses another byte (large pieces, then small ones). */
export function fill(file: string): void {
  for (const size of [64 * 1024, 512]) {
    const fd = fs.openSync(file, 'a');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(size, 1));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The first answer that is not 201: the database may still have room in pages it already holds. */
export async function writeUntilRefused<R extends { status: number }>(
  create: (i: number) => PromiseLike<R>,
  attempts = 200,
): Promise<R | undefined> {
  for (let i = 0; i < attempts; i++) {
    const res = await create(i);
    if (res.status !== 201) return res;
  }
  return undefined;
}

export const STORAGE_MESSAGE =
  'The database could not write: its storage is full or failing. Nothing was changed; try again later';
