// Owns building dist/ from the TypeScript sources: always (`npm run build`, and `prepare` at install),
// or only when a source is newer than the last build (`--if-stale`: the admin, migrate, bench and test
// scripts), so those start at once on a fresh dist/ and still run what a developer just changed.
// Plain JavaScript: it has to run before anything is compiled.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Written after every successful build; its time is the time of the sources that build saw. */
const STAMP = path.join(DIST, '.built');
/** Held while a build runs, so two scripts (or two test workers) never write dist/ at once. */
const LOCK = path.join(ROOT, '.build-lock');
/** A lock older than this was left by a build that died; a real build takes seconds. */
const STALE_LOCK_MS = 5 * 60 * 1000;
const INPUTS = ['src', 'bench', 'knexfile.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its folder's time
  for (const name of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, name)));
  return newest;
}

function isStale() {
  let built;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return true;
  }
  return INPUTS.some((input) => newestMtime(path.join(ROOT, input)) > built);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function takeLock() {
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > STALE_LOCK_MS) fs.rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      sleep(100);
    }
  }
}

function build() {
  const startedAt = new Date();
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  fs.writeFileSync(STAMP, '');
  // The stamp carries the time the build began: a source saved during the build is newer, so stale.
  fs.utimesSync(STAMP, startedAt, startedAt);
}

function main() {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) return;
  takeLock();
  try {
    // Another process may have built while this one waited for the lock.
    if (!ifStale || isStale()) build();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    if (process.env.npm_lifecycle_event === 'prepare') {
      // `npm ci --omit=dev` (a production image): dist/ comes from a build stage that had TypeScript.
      process.stderr.write(
        'build: TypeScript is not installed (dev dependencies omitted), so dist/ was not built here\n',
      );
      process.exit(0);
    }
    process.stderr.write('build: TypeScript is not installed; run `npm install` (with the dev dependencies) first\n');
  } else if (err && err.status === undefined) {
    process.stderr.write(`build: ${err.message}\n`);
  }
  process.exit(1);
}
