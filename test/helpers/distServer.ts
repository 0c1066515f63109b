// Runs the installed server as an operator does: `node dist/src/server.js` or `npm start` from the
// project folder (dist/ brought up to date first, as `npm test`'s pretest does), and the admin CLI.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

/** Builds dist/ if a source is newer than it (a no-op after `npm test`'s pretest); returns its path. */
export function builtDist(): string {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.js'), '--if-stale'], { cwd: ROOT, stdio: 'pipe' });
  return path.join(ROOT, 'dist');
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first output line matching `pattern`; rejects if the process exits first. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function spawnProc(command: string, args: string[], env: Record<string, string>, input?: string): Proc {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    // A group of its own, so that killIfRunning stops what it started too (npm start's node).
    detached: true,
  });
  if (input !== undefined) child.stdin?.end(input);
  let out = '';
  const waiting = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const check of waiting) check();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    line(pattern, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`no output line matched ${pattern} within ${timeoutMs} ms:\n${out}`)),
          timeoutMs,
        );
        const check = () => {
          const found = out.split('\n').find((l) => pattern.test(l));
          if (found !== undefined) finish(undefined, found);
        };
        function finish(err?: Error, found?: string) {
          clearTimeout(timer);
          waiting.delete(check);
          if (err) reject(err);
          else resolve(found as string);
        }
        waiting.add(check);
        void exited.then(() =>
          setImmediate(() => finish(new Error(`the process exited before printing ${pattern}:\n${out}`))),
        );
        check();
      });
    },
  };
}

export interface RunningServer extends Proc {
  /** http://127.0.0.1:<port>, from the server's own 'listening' line. */
  url: string;
  port: number;
}

/** Starts `node dist/src/server.js` (or `npm start`) on a free port (PORT=0) and waits for its 'listening' line. */
export async function startDistServer(
  env: Record<string, string>,
  how: 'node' | 'npm' = 'node',
): Promise<RunningServer> {
  builtDist();
  const fullEnv = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env };
  const proc =
    how === 'npm'
      ? spawnProc('npm', ['start', '--silent'], fullEnv)
      : spawnProc(process.execPath, ['dist/src/server.js'], fullEnv);
  const line = await proc.line(/"msg":"listening"/);
  const url = JSON.parse(line).url as string;
  return { ...proc, url, port: Number(new URL(url).port) };
}

/** Runs the admin CLI (`node dist/src/cli/admin.js`) to the end. */
export async function runAdmin(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<{ code: number | null; output: string }> {
  builtDist();
  const proc = spawnProc(process.execPath, ['dist/src/cli/admin.js', ...args], env, stdin);
  const { code } = await proc.exited;
  return { code, output: proc.output() };
}

/**
 * Stops a child if a test left it running, with its whole process group: SIGKILL cannot be passed on,
 * so killing `npm start` alone left its node running (and holding the test worker's pipes).
 */
export async function killIfRunning(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  try {
    process.kill(-(proc.child.pid as number), 'SIGKILL');
  } catch {
    proc.child.kill('SIGKILL');
  }
  await proc.exited;
}
