// PostgreSQL-only test tools: a second app instance on the same database, a raw pg session the test
// drives by hand (to hold locks and reshape the database), and a wait for backends blocked on a lock.
import { Writable } from 'node:stream';
import type { Express } from 'express';
import type { Knex } from 'knex';
import { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app';
import type { Config } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { extraOperations } from '../../src/extensions';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../helpers/testApp';

export interface Instance {
  http: ReturnType<typeof request>;
  knex: Knex;
  close(): Promise<void>;
}

export function databaseUrl(t: TestApp): string {
  if (t.config.database.kind !== 'postgres')
    throw new Error('test/postgres/ runs only with TEST_DATABASE_URL=postgres://…');
  return t.config.database.url;
}

/** Another server process's worth of state: its own app, pool and caches, on the same database as `t`. */
export function secondInstance(t: TestApp): Instance {
  return instanceOn(t.config);
}

/** An app on the database `config` names, which must already be migrated. */
export function instanceOn(config: Config): Instance {
  const knex = createKnex(config.database, config.db);
  const sink = new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
  const built = createApp({ config, knex, logger: createLogger('silent', sink), extraOperations });
  return { http: request(built.app as Express), knex, close: () => knex.destroy() };
}

/** A plain pg connection to the test's database, outside any app. */
export async function session(t: TestApp): Promise<Client> {
  const client = new Client({ connectionString: databaseUrl(t) });
  await client.connect();
  return client;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves once `count` other backends of this database are waiting for a lock (jest's time-out
 * bounds it). `observer` may be inside a transaction, where pg_stat_activity would otherwise stay
 * the snapshot taken at its first read.
 */
export async function lockWaiters(observer: Client, count: number): Promise<void> {
  for (;;) {
    await observer.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await observer.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
    );
    if (rows[0].n >= count) return;
    await sleep(20);
  }
}

/** Starts a request now (supertest is lazy until awaited) and hands back its promise. */
export function send<T>(req: PromiseLike<T>): Promise<T> {
  return Promise.resolve(req);
}

export interface TwoInstances {
  t: TestApp;
  b: Instance;
  locker: Client;
}

/** Registers hooks that start an app, a second instance on its database, and a raw session for locks. */
export function useTwoInstances(): TwoInstances {
  const ctx = {} as TwoInstances;
  beforeAll(async () => {
    ctx.t = await startTestApp();
    ctx.b = secondInstance(ctx.t);
    ctx.locker = await session(ctx.t);
  });
  afterAll(async () => {
    await ctx.locker.end();
    await ctx.b.close();
    await ctx.t.close();
  });
  return ctx;
}
