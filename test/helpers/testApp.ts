// Starts the real app on a fresh database for one test file, with an admin, a user and a reader.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Knex } from 'knex';
import request from 'supertest';
import type { Express } from 'express';
import { createApp, type App } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { migrateLatest } from '../../src/schema/migrate';
import { ensureAdmin } from '../../src/auth/bootstrap';
import { createLogger } from '../../src/logger';
import { createExtensions } from '../../src/extensions';
import { freshDatabase } from './database';

export const PASSWORDS = { admin: 'admin-secret-pw', user: 'alice-secret-pw', reader: 'rita-secret-pw' } as const;
export const USERNAMES = { admin: 'admin', user: 'alice', reader: 'rita' } as const;
export type Who = keyof typeof PASSWORDS;

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export interface TestApp extends App {
  knex: Knex;
  config: Config;
  http: ReturnType<typeof request>;
  logs: string[];
  auth(who: Who): string;
  ids: { admin: string; user: string; reader: string };
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const db = await freshDatabase();
  const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'info', ADMIN_PASSWORD: PASSWORDS.admin, ...env });
  const knex = createKnex(config.database, config.db);
  await migrateLatest(knex);
  await ensureAdmin(knex, USERNAMES.admin, PASSWORDS.admin);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const extensions = createExtensions({ ...process.env, ...env });
  const built = createApp({
    config,
    knex,
    logger: createLogger(config.logLevel, sink),
    extraOperations: extensions.extraOperations,
  });
  await extensions.start();
  await built.durable.worker.start();
  const http = request(built.app as Express);
  const auth = (who: Who) => basic(USERNAMES[who], PASSWORDS[who]);
  const ids = { admin: '', user: '', reader: '' };
  const adminRow = await knex('users').where({ username: USERNAMES.admin }).first();
  ids.admin = `${config.idPrefix}:${adminRow.id}`;
  for (const who of ['user', 'reader'] as const) {
    const res = await http
      .post('/rest/admin/v1/users')
      .set('Authorization', auth('admin'))
      .send({
        data: {
          attributes: {
            username: USERNAMES[who],
            displayName: who === 'user' ? 'Alice User' : 'Rita Reader',
            password: PASSWORDS[who],
            roles: [who],
          },
        },
      });
    if (res.status !== 201) throw new Error(`could not create ${who}: ${res.status} ${JSON.stringify(res.body)}`);
    ids[who] = res.body.data.attributes.id;
  }
  return {
    ...built,
    knex,
    config,
    http,
    logs,
    auth,
    ids,
    async close() {
      await built.durable.worker.stop();
      await extensions.stop();
      await knex.destroy();
      await db.drop();
    },
  };
}

/** A temporary SQLite file, for tests that need one outside startTestApp. */
export function tempSqliteUrl(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-test-'));
  return `sqlite:${path.join(dir, 'test.db')}`;
}
