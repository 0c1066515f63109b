// Stopping the real server process: SIGTERM / SIGINT (to node, or to the `npm start` that runs it)
// finish what is in flight with Connection: close, close idle keep-alive sockets, and exit 0; a second
// signal a second later exits at once; two that arrive together (Ctrl-C) are one stop.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { builtDist, killIfRunning, startDistServer, type RunningServer } from '../helpers/distServer';

const ADMIN = { username: 'admin', password: 'shutdown-admin-pw' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

let dir: string;
let server: RunningServer | undefined;
beforeAll(() => builtDist(), 120000);
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-shutdown-'));
});
afterEach(async () => {
  await killIfRunning(server);
  server = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(env: Record<string, string> = {}, how: 'node' | 'npm' = 'node'): Promise<RunningServer> {
  return startDistServer(
    {
      DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
      ADMIN_PASSWORD: ADMIN.password,
      SHUTDOWN_TIMEOUT_MS: '20000',
      ...env,
    },
    how,
  );
}

function compositeOf(n: number): Buffer {
  const requests = Array.from({ length: n }, (_, i) => ({
    method: 'post',
    uri: '/common/v1/activities',
    body: { data: { attributes: { subject: `In flight ${i}` } } },
  }));
  return Buffer.from(JSON.stringify({ requests }));
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Resolves once the server has closed the socket the answer came on (the client's socket 'close'). */
  socketClosed: Promise<boolean>;
}

/**
 * Sends a composite whose body arrives in two halves: the first now, the second when the returned
 * function is called, so the request is in flight for as long as the test wants.
 */
function halfSent(s: RunningServer, body: Buffer, agent: http.Agent): { finish(): Promise<Answer> } {
  const req = http.request(`${s.url}/rest/composite/v1/composite`, {
    method: 'POST',
    agent,
    headers: { Authorization: AUTH, 'Content-Type': 'application/json', 'Content-Length': body.length },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const socket = res.socket;
      const socketClosed = new Promise<boolean>((done) => socket.once('close', (hadError: boolean) => done(hadError)));
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, socketClosed }));
    });
  });
  void answer.catch(() => undefined); // a test that expects a failure awaits it later
  const half = Math.floor(body.length / 2);
  req.write(body.subarray(0, half));
  return {
    finish() {
      req.end(body.subarray(half));
      return answer;
    },
  };
}

/** Whether connecting is refused within two seconds (the listening socket closes as the stop begins). */
async function portClosed(port: number): Promise<boolean> {
  for (const deadline = Date.now() + 2000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await refused(port)) return true;
  }
  return false;
}

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** The pid of the only child of `pid` (Linux /proc). */
function childOf(pid: number): number {
  const children = fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  expect(children).toHaveLength(1);
  return children[0];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('`npm start`, then SIGTERM to the npm process: node (its direct child) stops cleanly, npm exits 0, the port is closed', async () => {
  server = await start({}, 'npm');
  const npmPid = server.child.pid as number;
  const nodePid = childOf(npmPid);
  expect(fs.readFileSync(`/proc/${nodePid}/cmdline`, 'utf8').split('\0')).toContain('dist/src/server.js');
  process.kill(npmPid, 'SIGTERM');
  expect((await server.exited).code).toBe(0);
  await server.line(/"msg":"stopped"/);
  expect(alive(nodePid)).toBe(false);
  expect(await portClosed(server.port)).toBe(true);
});

test('SIGINT to the npm process alone: npm passes it on, node stops cleanly', async () => {
  server = await start({}, 'npm');
  const nodePid = childOf(server.child.pid as number);
  process.kill(server.child.pid as number, 'SIGINT');
  expect((await server.exited).code).toBe(0);
  expect(server.output()).toMatch(/"signal":"SIGINT".*"msg":"shutting down"/);
  expect(alive(nodePid)).toBe(false);
});

test('Ctrl-C on `npm start` (SIGINT to npm and node together): one clean stop, not a second-signal exit', async () => {
  server = await startDistServer(
    { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, ADMIN_PASSWORD: ADMIN.password },
    'npm',
  );
  const nodePid = childOf(server.child.pid as number);
  // What a terminal does: the signal goes to the whole foreground group, and npm passes it on too.
  process.kill(server.child.pid as number, 'SIGINT');
  process.kill(nodePid, 'SIGINT');
  expect((await server.exited).code).toBe(0);
  expect(server.output()).toMatch(/"msg":"stopped"/);
  expect(server.output()).not.toMatch(/second signal/);
});

test('a composite of 100 in flight during SIGTERM completes and commits; its answer says Connection: close; then the process exits 0', async () => {
  server = await start();
  const agent = new http.Agent({ keepAlive: true });
  const inFlight = halfSent(server, compositeOf(100), agent);
  await new Promise((r) => setTimeout(r, 100)); // the first half has reached the server
  server.child.kill('SIGTERM');
  await server.line(/"msg":"shutting down"/);
  expect(await portClosed(server.port)).toBe(true); // no longer accepting
  const answer = await inFlight.finish();
  expect(answer.status).toBe(200);
  expect(answer.headers.connection).toBe('close');
  const body = JSON.parse(answer.body) as { responses: { status: number }[] };
  expect(body.responses).toHaveLength(100);
  expect(body.responses.every((r) => r.status === 201)).toBe(true);
  expect((await server.exited).code).toBe(0);
  expect(server.output()).not.toMatch(/time-out/);
  const db = new Database(path.join(dir, 'db.sqlite'), { readonly: true });
  expect(db.prepare("select count(*) as n from activities where subject like 'In flight %'").get()).toEqual({ n: 100 });
  db.close();
  agent.destroy();
});

test('keep-alive clients during SIGTERM: answers say Connection: close, idle sockets are closed by the server, no client sees a reset', async () => {
  server = await start();
  const s = server;
  const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  // Each client has made one keep-alive request (its socket now idle), and has a second one in flight.
  const idleClosed: Promise<boolean>[] = [];
  for (const agent of agents) {
    const first = await halfSent(s, compositeOf(1), agent).finish();
    expect(first.headers.connection).toBe('keep-alive');
    idleClosed.push(first.socketClosed);
  }
  const extraAgents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const inFlight = extraAgents.map((agent) => halfSent(s, compositeOf(1), agent));
  await new Promise((r) => setTimeout(r, 100));
  s.child.kill('SIGTERM');
  await s.line(/"msg":"shutting down"/);
  // The idle sockets are closed by the server, cleanly (no error on the client's side).
  expect(await Promise.all(idleClosed)).toEqual(agents.map(() => false));
  const answers = await Promise.all(inFlight.map((r) => r.finish()));
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(await answer.socketClosed).toBe(false);
  }
  expect((await s.exited).code).toBe(0);
  for (const agent of [...agents, ...extraAgents]) agent.destroy();
});

test('a second SIGTERM a second after the first exits at once, with requests still in flight', async () => {
  server = await start();
  const agent = new http.Agent({ keepAlive: true });
  const inFlight = halfSent(server, compositeOf(1), agent);
  await new Promise((r) => setTimeout(r, 100));
  server.child.kill('SIGTERM');
  await server.line(/"msg":"shutting down"/);
  await new Promise((r) => setTimeout(r, 1100));
  expect(server.child.exitCode).toBeNull(); // still waiting for the request (SHUTDOWN_TIMEOUT_MS is 20 s)
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(1);
  expect(server.output()).toMatch(/"msg":"second signal: exiting at once"/);
  await expect(inFlight.finish()).rejects.toThrow();
  agent.destroy();
});

test('requests still running at SHUTDOWN_TIMEOUT_MS: their connections are closed and the process still exits 0', async () => {
  server = await start({ SHUTDOWN_TIMEOUT_MS: '500' });
  const agent = new http.Agent({ keepAlive: true });
  const inFlight = halfSent(server, compositeOf(1), agent);
  await new Promise((r) => setTimeout(r, 100));
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
  expect(server.output()).toMatch(
    /"inFlight":1,"timeoutMs":500,"msg":"requests still running at the shutdown time-out; closing their connections"/,
  );
  await expect(inFlight.finish()).rejects.toThrow();
  agent.destroy();
});
