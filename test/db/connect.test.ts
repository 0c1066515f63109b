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
  const err = await refusal({
    DATABASE_URL: `postgres://ops:hunter22-secret@127.0.0.1:${port}/app?sslmode=disable`,
    DB_CONNECT_TIMEOUT_MS: '2000',
  });
  expect(err).toBeInstanceOf(DatabaseUnreachableError);
  expect(err.message).toBe(
    `cannot reach the database at postgres://127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port}`,
  );
  expect(err.message).not.toMatch(/hunter22|ops/);
});

describe('SQLite paths', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-connect-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a file where the folder should be: refused, naming the path', async () => {
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const err = await refusal({ DATABASE_URL: `sqlite:${path.join(dir, 'a-file', 'db.sqlite')}` });
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect(err.message).toBe(
      `cannot open the database at sqlite:${path.join(dir, 'a-file', 'db.sqlite')}: ${path.join(dir, 'a-file')} is not a folder`,
    );
  });

  test('a folder named in DATABASE_URL that does not exist: refused, and not created', async () => {
    const missing = path.join(dir, 'missing', 'deeper');
    const err = await refusal({ DATABASE_URL: `sqlite:${path.join(missing, 'x.db')}` });
    expect(err).toBeInstanceOf(DatabaseUnreachableError);
    expect(err.message).toBe(
      `cannot open the database at sqlite:${path.join(missing, 'x.db')}: the folder ${missing} does not exist (create it, or fix DATABASE_URL)`,
    );
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
  });

  test('a folder in place of the database file: refused in words', async () => {
    const err = await refusal({ DATABASE_URL: `sqlite:${dir}` });
    expect(err.message).toBe(`cannot open the database at sqlite:${dir}: that is a folder; name a file in it`);
  });

  test('the default location creates its folder', async () => {
    const knex = await connectDatabase({
      database: { kind: 'sqlite', filename: path.join(dir, 'data', 'composite.db'), createFolder: true },
      db: loadConfig({}).db,
    });
    await knex.destroy();
    expect(fs.statSync(path.join(dir, 'data')).isDirectory()).toBe(true);
  });
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
