// Owns the server under test: the real compiled server (dist/src/server.js) as a child process on a
// free 127.0.0.1 port, started as `npm start` starts it (its environment and node options), ready once /healthz answers; its peak RSS read from /proc/<pid>/status (VmHWM).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ServerUnderTest {
  origin: string;
  pid: number;
  /** Peak resident set size of the server process so far, in MiB (VmHWM), or undefined without /proc. */
  peakRssMiB(): number | undefined;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function readVmHwm(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function waitHealthy(origin: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}: ${stderr()}`);
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not become healthy: ${stderr()}`);
}

const ROOT = path.join(__dirname, '..', '..');

/** How `npm start` runs the server: the environment and node options of package.json's start script. */
export interface StartScript {
  env: Record<string, string>;
  nodeArgs: string[];
}

/** Parsed from package.json, so that the bench measures the server as it is operated (they size its memory). */
export function startScript(): StartScript {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const m = /^((?:[A-Z_]+=\S+ )*)exec node ((?:--\S+ )*)dist\/src\/server\.js$/.exec(pkg.scripts.start);
  if (!m)
    throw new Error(
      `the start script is not "[VAR=value …] exec node [options] dist/src/server.js": ${pkg.scripts.start}`,
    );
  const words = (text: string) => text.split(' ').filter(Boolean);
  return { env: Object.fromEntries(words(m[1]).map((w) => w.split('=', 2))), nodeArgs: words(m[2]) };
}

/** Starts the server as `start` says (the start script unless given), with `nodeArgs` and `env` added. */
export async function startServer(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  start: StartScript = startScript(),
): Promise<ServerUnderTest> {
  const port = await freePort();
  const entry = path.join(__dirname, '..', 'src', 'server.js');
  const child = spawn(process.execPath, [...start.nodeArgs, ...nodeArgs, entry], {
    env: { ...process.env, ...start.env, ...env, HOST: '127.0.0.1', PORT: String(port) },
    // The server logs one line per request to stdout; the bench keeps that cost but not the text.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => {
    errText = (errText + d.toString()).slice(-4000);
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitHealthy(origin, child, () => errText);
  const pid = child.pid as number;
  return {
    origin,
    pid,
    peakRssMiB: () => readVmHwm(pid),
    stop: () => stopChild(child),
  };
}

/** Stops a child process with SIGTERM; resolves once it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
