// Runs README.md as written: every marked shell example, in order, in one bash session, against a fresh
// server (a real child process on a fresh SQLite database), and fails when an answer is not the one shown.
import { spawn, type ChildProcessWithoutNullStreams, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildServer, freePort, startServer, type ServerProcess } from './helpers/serverProcess';
import { compare, readmeSteps, subsetDiff, type Step } from './helpers/readmeExamples';

const ROOT = path.resolve(__dirname, '..');
const README_SERVER = '127.0.0.1:8080';
const README_UPSTREAM = '127.0.0.1:8091';
const README_PASSWORD = '<the printed password>';
const ADMIN_PASSWORD = 'readme-admin-password';

/** One bash process for the whole README, so variables set by one block are seen by the next. */
class BashSession {
  private readonly bash: ChildProcessWithoutNullStreams;
  private pending = '';
  private waiter: (() => void) | undefined;
  private count = 0;

  constructor(private readonly dir: string) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: dir, LANG: 'C.UTF-8' },
    });
    this.bash.stdout.on('data', (d) => {
      this.pending += String(d);
      this.waiter?.();
    });
  }

  /** Runs a block with stdin closed (a command must not eat the session's script); returns its exit status and output. */
  async run(code: string, timeoutMs = 30000): Promise<{ status: number; stdout: Buffer; stderr: string }> {
    const n = ++this.count;
    const out = path.join(this.dir, `out.${n}`);
    const err = path.join(this.dir, `err.${n}`);
    const marker = `__readme_block_${n}_done__`;
    this.bash.stdin.write(`{\n${code}\n} </dev/null >'${out}' 2>'${err}'; echo "${marker} $?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = new RegExp(`${marker} (\\d+)`).exec(this.pending);
      if (m) {
        this.pending = '';
        return { status: Number(m[1]), stdout: fs.readFileSync(out), stderr: fs.readFileSync(err, 'utf8') };
      }
      if (Date.now() > deadline) throw new Error(`block did not finish within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  /** Ends the session and waits for bash to exit, so no child handle outlives the test file. */
  async close(): Promise<void> {
    if (this.bash.exitCode !== null || this.bash.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.bash.once('exit', () => resolve()));
    this.bash.stdin.end();
    this.bash.kill();
    await exited;
  }
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** Runs the README's examples; returns every difference found, each naming the README line. */
async function runReadme(steps: Step[], entry: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-test-'));
  const upstreamPort = await freePort();
  let server: ServerProcess | undefined;
  const background: ChildProcess[] = [];
  const bash = new BashSession(dir);
  const substitute = (text: string): string =>
    text
      .split(README_SERVER)
      .join(`127.0.0.1:${server?.port ?? 0}`)
      .split(README_UPSTREAM)
      .join(`127.0.0.1:${upstreamPort}`)
      .split(README_PASSWORD)
      .join(ADMIN_PASSWORD);
  /** A file the server is pointed at: README addresses rewritten in a copy; relative paths made absolute. */
  const fileValue = (value: string): string => {
    const file = path.resolve(ROOT, value);
    if (!fs.existsSync(file)) return substitute(value);
    const copy = path.join(dir, path.basename(file));
    fs.writeFileSync(copy, substitute(fs.readFileSync(file, 'utf8')));
    return copy;
  };
  const problems: string[] = [];
  try {
    for (const step of steps) {
      const where = `README line ${step.line}`;
      if (step.kind === 'server') {
        const m = /^((?:\s*[A-Z_][A-Z0-9_]*=\S*)*)\s*npm start\s*$/.exec(step.code.trim());
        if (!m) throw new Error(`${where}: a readme-server block is one line: [VAR=value …] npm start`);
        const env: Record<string, string> = {};
        for (const pair of m[1].trim().split(/\s+/).filter(Boolean)) {
          const at = pair.indexOf('=');
          env[pair.slice(0, at)] = fileValue(pair.slice(at + 1));
        }
        if (server) {
          server.child.kill('SIGTERM');
          await server.exited;
        }
        // DOTENV_CONFIG_PATH names no file, so a developer's .env cannot change what the README shows.
        server = await startServer(entry, {
          ...env,
          DATABASE_URL: `sqlite:${path.join(dir, 'readme.db')}`,
          ADMIN_PASSWORD,
          DOTENV_CONFIG_PATH: path.join(dir, 'no.env'),
        });
        if (server.child.exitCode !== null) throw new Error(`${where}: the server did not start: ${server.output()}`);
      } else if (step.kind === 'background') {
        const child = spawn('bash', ['-c', step.code], {
          cwd: ROOT,
          env: { ...process.env, EXAMPLE_UPSTREAM_PORT: String(upstreamPort) },
          detached: true,
          stdio: 'ignore',
        });
        background.push(child);
        await waitForPort(upstreamPort);
      } else {
        const { status, stdout, stderr } = await bash.run(substitute(step.code));
        const shown = `${where}: ${step.code.split('\n')[0]}`;
        if (status !== 0) problems.push(`${shown}\n  exit status ${status}: ${stderr.trim()}`);
        else if (!step.expect && stdout.length > 0)
          problems.push(`${shown}\n  prints an answer the README does not show: ${stdout.toString().slice(0, 300)}`);
        else if (step.expect) {
          try {
            const diffs = compare({ kind: step.expect.kind, text: substitute(step.expect.text) }, stdout);
            if (diffs.length) problems.push(`${shown}\n  ${diffs.join('\n  ')}`);
          } catch (e) {
            problems.push(`${shown}\n  ${(e as Error).message}`);
          }
        }
      }
    }
  } finally {
    await bash.close();
    for (const child of background) {
      if (!child.pid || child.exitCode !== null || child.signalCode !== null) continue;
      // The whole process group: npm and the node process it started. Waited for, so the jest worker
      // holds no handle of a child still exiting when the file ends.
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

describe('README.md', () => {
  const steps = readmeSteps(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  let entry = '';
  beforeAll(() => {
    entry = buildServer();
  }, 120000);

  test('marks its walkthrough: a server start first, and many examples with their answers', () => {
    expect(steps[0]?.kind).toBe('server');
    expect(steps.filter((s) => s.expect).length).toBeGreaterThanOrEqual(10);
  });

  test('every marked example answers as the README shows, run top to bottom on a fresh server', async () => {
    const problems = await runReadme(steps, entry);
    expect(problems).toEqual([]);
  }, 180000);

  test('the runner fails an example whose answer differs from the one shown', async () => {
    const doc = [
      '```sh readme-server',
      'npm start',
      '```',
      '```sh readme-test',
      'curl -si http://127.0.0.1:8080/healthz',
      '```',
      '```http expect',
      'HTTP/1.1 200 OK',
      '',
      '{"status": "down"}',
      '```',
      '```sh readme-test',
      'curl -s http://127.0.0.1:8080/healthz',
      '```',
      '```json expect',
      '{"status": "ok"}',
      '```',
      '```sh readme-test',
      'curl -s http://127.0.0.1:8080/healthz',
      '```',
      '```sh readme-test',
      'curl -si http://127.0.0.1:8080/healthz',
      '```',
      '```http expect',
      'HTTP/1.1 503 Service Unavailable',
      'Cache-Control: public',
      '```',
    ].join('\n');
    const problems = await runReadme(readmeSteps(doc), entry);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('$.status: expected "down", got "ok"');
    expect(problems[1]).toContain('prints an answer the README does not show');
    expect(problems[2]).toContain('status 200, the README shows 503');
    expect(problems[2]).toContain('header cache-control is "no-store", the README shows "public"');
  }, 120000);

  test('answers are matched as a subset: members left out are not checked, arrays and values are', () => {
    expect(subsetDiff({ a: 1, b: '…' }, { a: 1, b: 'x', c: 3 })).toEqual([]);
    expect(subsetDiff({ b: '…' }, {})).toEqual(['$.b: missing']);
    expect(subsetDiff({ a: [1] }, { a: [1, 2] })).toEqual(['$.a: expected 1 items, got 2']);
    expect(subsetDiff({ a: { b: 'x' } }, { a: { b: 'y' } })).toEqual(['$.a.b: expected "x", got "y"']);
  });
});
