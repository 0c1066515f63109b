// A real full disk and a real read-only directory under the SQLite database: a small tmpfs holds the
// file. Writes that find no room answer 503 with Retry-After (never 500), /readyz says why, reads and
// the data already there stay intact, and once room is made both recover without a restart.
// Needs root to mount (the test machines run as root); elsewhere the file says so and skips.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDatabaseKind } from '../helpers/database';
import { fill, mountTmpfs, STORAGE_MESSAGE, writeUntilRefused } from '../helpers/fullDisk';
import { startTestApp, type TestApp } from '../helpers/testApp';

const ACTIVITIES = '/rest/common/v1/activities';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-disk-'));
// The file runs once, on SQLite; a PostgreSQL run has test/postgres/diskFull.test.ts.
const onSqlite = testDatabaseKind() === 'sqlite';
const mounted = onSqlite && mountTmpfs(dir, '3m');
if (onSqlite && !mounted) console.warn(`diskFull.test.ts skipped: cannot mount a tmpfs at ${dir} (needs root)`);
if (!mounted) fs.rmSync(dir, { recursive: true, force: true });
const maybe = mounted ? describe : describe.skip;

let t: TestApp;
beforeAll(async () => {
  if (mounted) t = await startTestApp({ DATABASE_URL: `sqlite:${path.join(dir, 'composite.db')}` });
});
afterAll(async () => {
  if (!mounted) return;
  try {
    await t?.close();
  } finally {
    execFileSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const create = (subject: string) =>
  t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject, description: 'x'.repeat(20000) } } });

maybe('SQLite on a full disk', () => {
  test('writes answer 503 with Retry-After, /readyz reports the disk, data stays intact, and both recover', async () => {
    const before = await create('before the disk filled');
    expect(before.status).toBe(201);
    const filler = path.join(dir, 'filler');
    fill(filler);

    const refused = await writeUntilRefused((i) => create(`while full ${i}`));
    expect(refused?.status).toBe(503);
    expect(refused?.headers['retry-after']).toBe('30');
    expect(refused?.body).toMatchObject({
      status: 503,
      errorCode: 'gw.api.rest.exception.ServiceUnavailableException',
      userMessage: STORAGE_MESSAGE,
    });
    expect(JSON.stringify(refused?.body)).not.toMatch(/SQLITE|insert|select/i);

    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('30');
    expect(ready.body.details[0].properties).toEqual({ check: 'storage', code: 'ENOSPC' });
    expect((await t.http.get('/healthz')).status).toBe(200);

    // Reads still work, and what was committed before is there.
    const kept = await t.http
      .get(`${ACTIVITIES}/${before.body.data.attributes.id}`)
      .set('Authorization', t.auth('user'));
    expect(kept.status).toBe(200);
    expect(kept.body.data.attributes.subject).toBe('before the disk filled');
    const count = (await t.knex('activities').count({ n: '*' }))[0].n;

    fs.rmSync(filler);
    await sleep(1100); // past the cached answer
    expect((await t.http.get('/readyz')).status).toBe(200);
    const after = await create('after room was made');
    expect(after.status).toBe(201);
    expect(Number((await t.knex('activities').count({ n: '*' }))[0].n)).toBe(Number(count) + 1);
    expect(t.logs.join('')).not.toContain('"level":50');
  });

  test("/readyz answers 503 while the database's directory is read-only, and 200 once it is writable again", async () => {
    // A read-only bind mount over the directory: root ignores file modes, not a read-only mount.
    execFileSync('mount', ['--bind', dir, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
      await sleep(1100);
      const ready = await t.http.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 503,
        userMessage: "Not ready: The database's disk does not take writes",
      });
      expect(ready.body.details[0].properties).toEqual({ check: 'storage', code: 'EROFS' });
    } finally {
      execFileSync('umount', [dir]);
    }
    await sleep(1100);
    expect((await t.http.get('/readyz')).status).toBe(200);
  });
});
