// Owns `npm run dev`: TypeScript's own watcher (tsc --watch) rebuilds dist/ on every change, and Node's
// own watcher (node --watch) restarts the server when a file it loaded changes. Both ship with what
// the project already uses, so development needs no extra tool. The server starts after tsc's first
// pass, so it never runs half-written output; Ctrl-C or SIGTERM stops both.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
const children = [];

const watcher = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(watcher);

/** The environment and node options of `npm start` (they size the server's memory): the server runs in development as it does in operation. */
function startScript() {
  const start = require(path.join(ROOT, 'package.json')).scripts.start;
  const m = /^((?:[A-Z_]+=\S+ )*)exec node ((?:--\S+ )*)dist\/src\/server\.js$/.exec(start);
  if (!m) throw new Error(`the start script is not "[VAR=value …] exec node [options] dist/src/server.js": ${start}`);
  const words = (text) => text.split(' ').filter(Boolean);
  return { env: Object.fromEntries(words(m[1]).map((w) => w.split('=', 2))), nodeArgs: words(m[2]) };
}

let server;
watcher.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (!server && /Watching for file changes/.test(String(chunk))) {
    const start = startScript();
    server = spawn(process.execPath, ['--watch', ...start.nodeArgs, 'dist/src/server.js'], {
      cwd: ROOT,
      env: { ...start.env, ...process.env },
      stdio: 'inherit',
    });
    children.push(server);
    server.on('exit', (code) => stop(code ?? 0));
  }
});
watcher.on('exit', (code) => stop(code ?? 1));

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (running.length === 0) process.exit(code);
  let left = running.length;
  for (const child of running) {
    child.once('exit', () => {
      if (--left === 0) process.exit(code);
    });
    child.kill('SIGTERM');
  }
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
