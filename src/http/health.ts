// Owns the operator's probes: GET /healthz (the process answers) and GET /readyz (the database is
// reachable, its migrations are current and its storage takes writes), both without authentication.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { DatabaseConfig } from '../config';
import { MIGRATIONS } from '../schema/migrate';
import { errors } from '../errors';
import { dbErrorCode } from '../db/errors';
import { sendError } from './errorHandler';
import { sendJson } from './json';

/** Liveness: nothing but the process itself, so a slow database never gets a live server restarted. */
export function liveness() {
  return (_req: Request, res: Response) => sendJson(res, 200, { status: 'ok' });
}

/** Why the server is not ready: which check failed, in words for the operator, and the code behind it. */
export interface NotReady {
  check: 'database' | 'migrations' | 'storage';
  message: string;
  code?: string;
}

export interface ReadinessOptions {
  /** A result is reused this long, so a probe every few ms costs one round trip a second at most. */
  cacheMs: number;
  /** A hung connection must not hang the probe: a load balancer needs an answer. */
  timeoutMs: number;
  /**
   * PostgreSQL's storage cannot be probed from here, so a disk-full seen on a write is reported for
   * this long unless a write succeeds first; then traffic is let in again to find out.
   */
  faultHoldMs: number;
}

const DEFAULTS: ReadinessOptions = { cacheMs: 1000, timeoutMs: 5000, faultHoldMs: 30000 };

function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Writes a small file beside the SQLite database and removes it: a full or read-only file system
 * refuses it (ENOSPC, EROFS…) the way it would refuse the database's next page.
 */
async function sqliteStorageProblem(filename: string): Promise<NotReady | undefined> {
  const probe = path.join(path.dirname(filename), `.${path.basename(filename)}.readyz`);
  try {
    const file = await fs.open(probe, 'w');
    try {
      await file.write(Buffer.alloc(4096));
    } finally {
      await file.close();
    }
    await fs.unlink(probe);
    return undefined;
  } catch (err) {
    await fs.unlink(probe).catch(() => undefined);
    return { check: 'storage', message: "The database's disk does not take writes", code: dbErrorCode(err) ?? 'EIO' };
  }
}

/** A standby or a read-only database answers reads but would refuse every write. */
async function postgresStorageProblem(knex: Knex): Promise<NotReady | undefined> {
  const { rows } = await knex.raw<{ rows: Array<{ standby: boolean; readonly: string }> }>(
    "select pg_is_in_recovery() as standby, current_setting('transaction_read_only') as readonly",
  );
  if (rows[0]?.standby || rows[0]?.readonly === 'on') return { check: 'storage', message: 'The database is read-only' };
  return undefined;
}

async function migrationsProblem(knex: Knex): Promise<NotReady | undefined> {
  const done = new Set((await knex('knex_migrations').select('name')).map((r: { name: string }) => r.name));
  const pending = MIGRATIONS.filter(([name]) => !done.has(name)).length;
  return pending === 0 ? undefined : { check: 'migrations', message: `${pending} database migration(s) have not run` };
}

/** Readiness of one app: probes cached briefly, plus the last storage fault a real write met. */
export class Readiness {
  private readonly opts: ReadinessOptions;
  private cached: { at: number; result: NotReady | undefined } | undefined;
  private running: Promise<NotReady | undefined> | undefined;
  private fault: { code: string; at: number } | undefined;

  constructor(
    private readonly knex: Knex,
    private readonly database: DatabaseConfig,
    opts: Partial<ReadinessOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  /** A write failed for lack of storage (disk full, I/O error): not ready until that is over. */
  storageFault(code: string): void {
    this.fault = { code, at: Date.now() };
    this.cached = undefined;
  }

  /** A write committed: the storage takes writes again. */
  wroteOk(): void {
    if (!this.fault) return;
    this.fault = undefined;
    this.cached = undefined;
  }

  /** undefined when ready; otherwise why not. */
  async check(): Promise<NotReady | undefined> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.opts.cacheMs) return this.cached.result;
    this.running ??= this.probe(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async probe(startedAt: number): Promise<NotReady | undefined> {
    let result: NotReady | undefined;
    try {
      result = await withinTime(this.probeDatabase(startedAt), this.opts.timeoutMs);
    } catch (err) {
      result = { check: 'database', message: 'The database is not reachable', code: dbErrorCode(err) };
    }
    this.cached = { at: Date.now(), result };
    return result;
  }

  private async probeDatabase(startedAt: number): Promise<NotReady | undefined> {
    await this.knex.raw('select 1');
    const migrations = await migrationsProblem(this.knex);
    if (migrations) return migrations;
    const db = this.database;
    if (db.kind === 'postgres') {
      const storage = await postgresStorageProblem(this.knex);
      if (storage) return storage;
      if (this.fault && startedAt - this.fault.at >= this.opts.faultHoldMs) this.fault = undefined;
    } else if (db.filename !== ':memory:') {
      const storage = await sqliteStorageProblem(db.filename);
      if (storage) return storage;
      // The disk takes writes again; a fault noted while this probe ran still stands.
      if (this.fault && this.fault.at < startedAt) this.fault = undefined;
    }
    if (this.fault) return { check: 'storage', message: 'A write failed for lack of storage', code: this.fault.code };
    return undefined;
  }
}

/** Seconds a client or balancer is asked to wait before trying again, by what is wrong. */
const RETRY_AFTER: Record<NotReady['check'], number> = { database: 5, migrations: 5, storage: 30 };

export function readinessCheck(readiness: Readiness) {
  return async (_req: Request, res: Response) => {
    const problem = await readiness.check();
    if (!problem) return sendJson(res, 200, { status: 'ok' });
    const error = errors.serviceUnavailable(`Not ready: ${problem.message}`, RETRY_AFTER[problem.check]);
    error.details.push({
      message: problem.message,
      properties: { check: problem.check, ...(problem.code ? { code: problem.code } : {}) },
    });
    sendError(res, error);
  };
}
