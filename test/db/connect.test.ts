// The server's first contact with the database (src/db/connect.ts, called by src/server.ts before
// anything else): an unreachable database is a clear refusal naming where — never the password.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { connectDatabase, DatabaseUnreachableError } from '../../src/db/connect';
import { freePort } from '../helpers/serverProcess';
import { freshDatabase } from '../helpers/database';

async function refusal(env: Record<string, string>): Promise<Error> {
  try {
    const knex = await connectDatabase(loadConfig(env));
    await knex.destroy();
  } catch (err) {
    return err as Error;
  }
  throw new Error('connectDatabase succeeded');
}

test('nothing listening on the PostgreSQL port: refused, naming host and port and the reason, without credentials', async () => {
  const port = await freePort();
  const err = await refusal({ DATABASE_URL: `postgres://ops:hunter22-secret@127.0.0.1:${port}/app?sslmode=disable`, DB_CONNECT_TIMEOUT_MS: '2000' });
  expect(err).toBeInstanceOf(DatabaseUnreachableError);
  expect(err.message).toBe(`cannot reach the database at postgres://127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port}`);
  expect(err.message).not.toMatch(/hunter22|ops/);
});

test('a SQLite path that cannot be created: refused, naming the path', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-connect-'));
  fs.writeFileSync(path.join(dir, 'a-file'), '');
  try {
    const err = await refusal({ DATABASE_URL: `sqlite:${path.join(dir, 'a-file', 'db.sqlite')}` });
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect(err.message).toMatch(/^cannot open the database at sqlite:.*a-file\/db\.sqlite: .*(EEXIST|ENOTDIR)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the test database (SQLite or PostgreSQL) is reachable: connectDatabase hands back a working pool', async () => {
  const db = await freshDatabase();
  try {
    const knex = await connectDatabase(loadConfig({ DATABASE_URL: db.url }));
    try {
      expect(await knex.raw('select 1 as one')).toBeDefined();
    } finally {
      await knex.destroy();
    }
  } finally {
    await db.drop();
  }
});
