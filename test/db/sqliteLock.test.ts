// One server process per SQLite file, with real processes: a second one on the same file exits at
// once with one line naming the file while the first keeps serving; a lock left by a killed process
// is taken over; a clean shutdown removes it.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { basic } from '../helpers/testApp';
import { buildServer, startServer, type ServerProcess } from '../helpers/serverProcess';
import { freshSqliteDatabase, type FreshDatabase } from '../helpers/database';

const ADMIN = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'lock-test-pw' };

let entry: string;
let db: FreshDatabase;
let file: string;
const running: ServerProcess[] = [];
beforeAll(() => {
  entry = buildServer();
}, 120000);
beforeEach(() => {
  db = freshSqliteDatabase();
  file = db.url.slice('sqlite:'.length);
});
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  await db.drop();
});

async function start(): Promise<ServerProcess> {
  const p = await startServer(entry, { DATABASE_URL: db.url, ...ADMIN });
  running.push(p);
  return p;
}

async function activities(p: ServerProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${p.port}/rest/common/v1/activities`, {
    headers: { Authorization: basic(ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD) },
  });
  return res.status;
}

test('a second process on the same file exits non-zero at once, naming the file; the first keeps serving', async () => {
  const first = await start();
  expect(await activities(first)).toBe(200);
  const lock = JSON.parse(fs.readFileSync(`${file}.lock`, 'utf8'));
  expect(lock.pid).toBe(first.child.pid);

  const second = await start();
  expect(await second.exited).not.toBe(0);
  const lines = second
    .output()
    .split('\n')
    .filter((l) => l.startsWith('cannot start:'));
  expect(lines).toEqual([
    `cannot start: the SQLite database ${file} is in use by another process (pid ${first.child.pid}); SQLite mode allows one server process per file`,
  ]);

  expect(await activities(first)).toBe(200);
  expect(JSON.parse(fs.readFileSync(`${file}.lock`, 'utf8')).pid).toBe(first.child.pid);
}, 30000);

test('a lock left by a process that was killed (kill -9) is taken over; a clean shutdown removes it', async () => {
  const first = await start();
  first.child.kill('SIGKILL');
  await first.exited;
  expect(fs.existsSync(`${file}.lock`)).toBe(true);

  const next = await start();
  expect(await activities(next)).toBe(200);
  expect(JSON.parse(fs.readFileSync(`${file}.lock`, 'utf8')).pid).toBe(next.child.pid);
  next.child.kill('SIGTERM');
  expect(await next.exited).toBe(0);
  expect(fs.existsSync(`${file}.lock`)).toBe(false);
}, 30000);

test('a lock whose pid now belongs to an unrelated process (pid reused) is stale', async () => {
  // A live process that is not the owner: this test runner, with a start time that does not match.
  fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, started: '1', host: os.hostname() }));
  const p = await start();
  expect(await activities(p)).toBe(200);
}, 30000);

test('the migrate command is refused too while a server holds the file', async () => {
  const server = await start();
  const res = spawnSync(process.execPath, [entry.replace(/server\.js$/, 'cli/migrate.js')], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url },
    encoding: 'utf8',
  });
  expect(res.status).toBe(1);
  expect(res.stderr).toBe(
    `migration failed: the SQLite database ${file} is in use by another process (pid ${server.child.pid}); SQLite mode allows one server process per file\n`,
  );
  expect(await activities(server)).toBe(200);
}, 30000);
