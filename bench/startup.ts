// Owns `npm run bench:startup`: start-to-ready of the installed server, from spawning the process to
// its first 200 from /readyz (or /healthz where there is no /readyz), for `node dist/src/server.js`
// on a new database (migrations and the first admin included) and on an existing one, and for
// `npm start` (npm's own start-up included). Each start is stopped with SIGTERM before the next.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const RUNS = Number(process.env.STARTUP_RUNS || 7);

async function readyPath(origin: string): Promise<number> {
  for (const probe of ['/readyz', '/healthz']) {
    try {
      const res = await fetch(`${origin}${probe}`);
      if (res.status === 404) continue;
      return res.status;
    } catch {
      return 0; // not listening yet
    }
  }
  return 0;
}

/** Milliseconds from spawn to the first 200; the process is stopped before this resolves. */
async function startToReady(
  command: string,
  args: string[],
  env: Record<string, string>,
  port: number,
): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ADMIN_PASSWORD: 'startup-bench-pw',
      ...env,
    },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}`);
      if ((await readyPath(`http://127.0.0.1:${port}`)) === 200) return Number(process.hrtime.bigint() - started) / 1e6;
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-startup-'));
  const port = 20000 + (process.pid % 20000);
  const existing = `sqlite:${path.join(dir, 'existing.db')}`;
  const cases: Record<string, (i: number) => Promise<number>> = {
    'node dist/src/server.js, new database': (i) =>
      startToReady(
        process.execPath,
        ['dist/src/server.js'],
        { DATABASE_URL: `sqlite:${path.join(dir, `new-${i}.db`)}` },
        port,
      ),
    'node dist/src/server.js, existing database': () =>
      startToReady(process.execPath, ['dist/src/server.js'], { DATABASE_URL: existing }, port),
    'npm start, existing database': () => startToReady('npm', ['start', '--silent'], { DATABASE_URL: existing }, port),
  };
  await cases['node dist/src/server.js, existing database'](0); // creates it, and warms the page cache
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // Interleaved, so drift on a shared machine hits every case alike.
  for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(cases)) times[name].push(await run(i));
  process.stdout.write(
    `start-to-ready (spawn to the first 200), ${RUNS} runs each, ${os.cpus().length} cores, Node ${process.version}\n`,
  );
  for (const [name, t] of Object.entries(times)) {
    process.stdout.write(
      `  ${name.padEnd(44)} median ${median(t).toFixed(0)} ms   min ${Math.min(...t).toFixed(0)}   max ${Math.max(...t).toFixed(0)}\n`,
    );
  }
  // Read back by `npm run bench` (bench/roundTwoReport.ts), which runs right after this.
  const results = Object.fromEntries(
    Object.entries(times).map(([name, t]) => [
      name,
      { medianMs: median(t), minMs: Math.min(...t), maxMs: Math.max(...t), runs: RUNS },
    ]),
  );
  const dirOut = process.env.BENCH_RESULTS_DIR || path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dirOut, { recursive: true });
  fs.writeFileSync(
    path.join(dirOut, 'startup-latest.json'),
    JSON.stringify({ when: new Date().toISOString(), targetMs: 1500, cases: results }, null, 2) + '\n',
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`bench:startup failed: ${(err as Error).message}\n`);
  process.exit(1);
});
