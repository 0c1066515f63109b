// PostgreSQL on a full disk: the test database lives in a tablespace on a small tmpfs, so inserts
// that need a new page fail with SQLSTATE 53100 as on a real full disk. The API answers 503 with
// Retry-After (never 500), /readyz reports the storage fault, committed data stays intact, and after
// room is made the next write succeeds and readiness recovers. While that disk is full every checkpoint
// of the cluster fails, so dropping any other database (which asks for one) waits for room instead of
// failing: other test files drop theirs meanwhile. Needs root to mount.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { freshPostgresDatabase, postgresUrl } from '../helpers/database';
import { fill, mountTmpfs, STORAGE_MESSAGE, writeUntilRefused } from '../helpers/fullDisk';
import { startTestApp, type TestApp } from '../helpers/testApp';

const ACTIVITIES = '/rest/common/v1/activities';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-pgdisk-'));
const name = `composite_test_disk_${randomBytes(4).toString('hex')}`;
const mounted = mountTmpfs(dir, '12m');
if (mounted) execFileSync('chown', ['postgres:postgres', dir]);
else {
  console.warn(
    `postgres/diskFull.test.ts skipped: cannot mount a tmpfs for PostgreSQL at ${dir} (needs root and a local server)`,
  );
}
if (!mounted) fs.rmSync(dir, { recursive: true, force: true });
const maybe = mounted ? describe : describe.skip;

let admin: Client;
let t: TestApp;
beforeAll(async () => {
  if (!mounted) return;
  admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE TABLESPACE ${name} LOCATION '${dir}'`);
  await admin.query(`CREATE DATABASE ${name} TABLESPACE ${name}`);
  t = await startTestApp({ DATABASE_URL: postgresUrl(name) });
});
afterAll(async () => {
  if (!mounted) return;
  try {
    fs.rmSync(path.join(dir, 'filler'), { force: true }); // left behind when the test failed midway
    await t?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`DROP TABLESPACE IF EXISTS ${name}`);
    await admin.end();
  } finally {
    execFileSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const create = (subject: string) =>
  t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject, description: randomBytes(15000).toString('base64') } } });

maybe('PostgreSQL on a full disk', () => {
  test('writes answer 503 with Retry-After, /readyz reports it, data stays intact, and both recover', async () => {
    const before = await create('before the disk filled');
    expect(before.status).toBe(201);
    const other = await freshPostgresDatabase();
    const filler = path.join(dir, 'filler');
    fill(filler);
    const refused = await writeUntilRefused((i) => create(`while full ${i}`));
    expect(refused?.status).toBe(503);
    expect(refused?.headers['retry-after']).toBe('30');
    expect(refused?.body.userMessage).toBe(STORAGE_MESSAGE);
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.details[0].properties).toEqual({ check: 'storage', code: '53100' });
    expect((await t.http.get('/healthz')).status).toBe(200);

    const kept = await t.http
      .get(`${ACTIVITIES}/${before.body.data.attributes.id}`)
      .set('Authorization', t.auth('user'));
    expect(kept.body.data.attributes.subject).toBe('before the disk filled');

    const dropping = other.drop();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    fs.rmSync(filler);
    await dropping;
    const otherName = new URL(other.url).pathname.slice(1);
    expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [otherName])).rowCount).toBe(0);
    expect((await create('after room was made')).status).toBe(201);
    expect((await t.http.get('/readyz')).status).toBe(200);
    expect(t.logs.join('')).not.toContain('"level":50');
  });
});
