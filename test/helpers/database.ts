// Owns the database a test file runs on: a fresh SQLite file by default, or, when TEST_DATABASE_URL
// points at PostgreSQL, a fresh database created there and dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';

export interface FreshDatabase {
  url: string;
  kind: 'sqlite' | 'postgres';
  drop(): Promise<void>;
}

export function testDatabaseKind(): 'sqlite' | 'postgres' {
  return /^postgres(ql)?:\/\//.test(process.env.TEST_DATABASE_URL ?? '') ? 'postgres' : 'sqlite';
}

export async function freshDatabase(): Promise<FreshDatabase> {
  const base = process.env.TEST_DATABASE_URL ?? '';
  if (testDatabaseKind() === 'postgres') {
    const name = `composite_test_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: base, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${name}`);
    await admin.destroy();
    const url = new URL(base);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      kind: 'postgres',
      async drop() {
        const k = knexFactory({ client: 'pg', connection: base, pool: { min: 0, max: 1 } });
        await k.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await k.destroy();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-test-'));
  return {
    url: `sqlite:${path.join(dir, 'test.db')}`,
    kind: 'sqlite',
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
