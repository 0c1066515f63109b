// Starting the real server process (node dist/src/server.js): it claims to listen only once it does,
// and anything that stops a start (address, database path) is one line and a non-zero exit.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { killIfRunning, spawnProc, startDistServer, builtDist, type Proc } from '../helpers/distServer';

let dir: string;
let procs: Proc[] = [];
beforeAll(() => builtDist(), 120000);
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-start-'));
});
afterEach(async () => {
  for (const p of procs) await killIfRunning(p);
  procs = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the server to its exit (a start that fails); returns the exit code and every line it printed. */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  // With ADMIN_PASSWORD given nothing is printed before listening; a generated one would be (it stays valid).
  const proc = spawnProc(process.execPath, ['dist/src/server.js'], {
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:${path.join(dir, 'x.db')}`,
    ADMIN_PASSWORD: 'first-admin-pw',
    ...env,
  });
  procs.push(proc);
  const { code } = await proc.exited;
  return { code, lines: proc.output().trim().split('\n') };
}

test('a port in use: one line naming the address, exit 4, and no claim to listen', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as net.AddressInfo;
  try {
    const { code, lines } = await failedStart({ PORT: String(port) });
    expect(code).toBe(4);
    expect(lines).toEqual([
      `cannot start: cannot listen on 127.0.0.1:${port}: the port is already in use (set PORT, or stop the other process)`,
    ]);
  } finally {
    taken.close();
  }
});

/**
 * EACCES needs a process without the privilege to bind port 80: this one, or, when the tests run as
 * root, the server started as nobody (setpriv). Where unprivileged processes may bind it, nothing can.
 */
function unprivileged(): { command: string; prefix: string[] } | undefined {
  const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  if (!(start > 80)) return undefined;
  if (process.getuid?.() !== 0) return { command: process.execPath, prefix: [] };
  return fs.existsSync('/usr/bin/setpriv')
    ? { command: '/usr/bin/setpriv', prefix: ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] }
    : undefined;
}
const asUnprivileged = unprivileged();

(asUnprivileged ? test : test.skip)('no permission for the port (EACCES): one line, exit 4', async () => {
  const { command, prefix } = asUnprivileged as NonNullable<typeof asUnprivileged>;
  fs.chmodSync(dir, 0o777); // the SQLite file, for nobody
  const proc = spawnProc(command, [...prefix, 'dist/src/server.js'], {
    HOST: '127.0.0.1',
    PORT: '80',
    DATABASE_URL: `sqlite:${path.join(dir, 'x.db')}`,
    ADMIN_PASSWORD: 'first-admin-pw',
  });
  procs.push(proc);
  expect((await proc.exited).code).toBe(4);
  expect(proc.output().trim().split('\n')).toEqual([
    'cannot start: cannot listen on 127.0.0.1:80: permission denied (ports below 1024 need privileges; set PORT)',
  ]);
});

test('an unknown host: one line, exit 4', async () => {
  const { code, lines } = await failedStart({ HOST: 'not a host' });
  expect(code).toBe(4);
  expect(lines).toEqual([
    'cannot start: cannot listen on not a host:0: unknown host "not a host" (set HOST to an address or a name that resolves)',
  ]);
});

test('a parent folder named in DATABASE_URL that does not exist: refused in one line, and not created', async () => {
  const missing = path.join(dir, 'nonexistent', 'dir');
  const { code, lines } = await failedStart({ DATABASE_URL: `sqlite:${path.join(missing, 'x.db')}` });
  expect(code).toBe(3);
  expect(lines).toEqual([
    `cannot start: cannot open the database at sqlite:${path.join(missing, 'x.db')}: the folder ${missing} does not exist (create it, or fix DATABASE_URL)`,
  ]);
  expect(fs.existsSync(path.join(dir, 'nonexistent'))).toBe(false);
});

test('a folder as the SQLite file: one line, no stack trace', async () => {
  const { code, lines } = await failedStart({ DATABASE_URL: `sqlite:${dir}` });
  expect(code).toBe(3);
  expect(lines).toEqual([
    `cannot start: cannot open the database at sqlite:${dir}: that is a folder; name a file in it`,
  ]);
});

test('an unreachable PostgreSQL: one line naming where (without the password), exit 3', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as net.AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const { code, lines } = await failedStart({
    DATABASE_URL: `postgres://ops:hunter22-secret@127.0.0.1:${port}/app`,
    DB_CONNECT_TIMEOUT_MS: '2000',
  });
  expect(code).toBe(3);
  expect(lines).toEqual([
    `cannot start: cannot reach the database at postgres://127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port}`,
  ]);
});

test('an unreadable SQLite file: one line from the driver, no stack trace', async () => {
  const file = path.join(dir, 'garbage.db');
  fs.writeFileSync(file, 'this is not a SQLite database, just text long enough to have a header '.repeat(20));
  const { code, lines } = await failedStart({ DATABASE_URL: `sqlite:${file}` });
  expect(code).toBe(3);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^cannot start: .*garbage\.db.*SQLITE_NOTADB/);
});

test('the URL is logged once listening, with the port really bound; ADMIN_PASSWORD on a database with users is reported as not used', async () => {
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'x.db')}`, ADMIN_PASSWORD: 'first-admin-pw' };
  const first = await startDistServer(env);
  procs.push(first);
  expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(first.port).toBeGreaterThan(0);
  expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  expect(first.output()).not.toMatch(/not used/);
  first.child.kill('SIGTERM');
  expect((await first.exited).code).toBe(0);

  const second = await startDistServer(env);
  procs.push(second);
  const warning = JSON.parse(await second.line(/ADMIN_PASSWORD/));
  expect(warning).toMatchObject({
    level: 40,
    msg: 'ADMIN_PASSWORD was not used: the database already has users. To set a password: npm run admin -- reset-password <username>',
  });
  expect(JSON.stringify(warning)).not.toContain('first-admin-pw');
  // Times are ISO-8601.
  expect(warning.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('LOG_FORMAT=pretty prints readable lines instead of JSON', async () => {
  const proc = spawnProc(process.execPath, ['dist/src/server.js'], {
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:${path.join(dir, 'x.db')}`,
    ADMIN_PASSWORD: 'first-admin-pw',
    LOG_FORMAT: 'pretty',
  });
  procs.push(proc);
  const line = await proc.line(/listening/);
  expect(line).toMatch(/INFO.*listening/);
  expect(() => JSON.parse(line)).toThrow();
  proc.child.kill('SIGTERM');
  expect((await proc.exited).code).toBe(0);
});

/** A gauge of the server's own /metrics, by its full name with labels. */
async function gauge(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

test("`npm start` bounds V8's young generation: the heap options of the start script reach node", async () => {
  const server = await startDistServer(
    { DATABASE_URL: `sqlite:${path.join(dir, 'x.db')}`, ADMIN_PASSWORD: 'first-admin-pw', METRICS_PUBLIC: 'true' },
    'npm',
  );
  procs.push(server);
  // Under Node's defaults the new space is already 16 to 32 MiB (two semi-spaces of up to 16) after the start.
  const newSpace = await gauge(server.url, 'nodejs_heap_space_size_total_bytes{space="new"}');
  expect(newSpace).toBeGreaterThan(0);
  expect(newSpace).toBeLessThanOrEqual(8 * 2 ** 20);
});
