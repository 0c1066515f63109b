// Owns the connector registry's life: syncing CONNECTORS_REGISTRY (at start, on a debounced file
// change, on demand) all or nothing into the database, and serving every instance the definitions
// of the newest revision there, compiled once per revision.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { compileRegistry, compileRegistryText, type CompiledRegistry, type RegistryProblem } from './compile';
import { SecretStore } from './secrets';

export type SyncTrigger = 'start' | 'watch' | 'api';

export interface SyncStatus {
  registry: { configured: boolean; file: string | null };
  active: {
    revision: number;
    syncedAt: string | null;
    syncedFrom: string | null;
    connectors: number;
    compositeConnectors: number;
  };
  lastAttempt: { at: string; ok: boolean; trigger: string | null; problems: RegistryProblem[] } | null;
}

export type SyncResult = { ok: true; revision: number } | { ok: false; problems: RegistryProblem[] };

interface RegistryRow {
  revision: number | string;
  definitions: string;
  definitions_hash: string;
  synced_at: string | null;
  synced_from: string | null;
  attempt_at: string | null;
  attempt_ok: boolean | number | null;
  attempt_problems: string | null;
  attempt_source: string | null;
}

const TABLE = 'connector_registry';
const DEBOUNCE_MS = 150;

export interface RegistryOptions {
  knex: Knex;
  logger: Logger;
  file: string | undefined;
  secretsFile: string | undefined;
  env: Record<string, string | undefined>;
}

export class ConnectorRegistry {
  private compiled: { revision: number; registry: CompiledRegistry } | undefined;
  private secretStore = SecretStore.empty();
  /** Syncs run one at a time, in the order asked. */
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: fs.FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RegistryOptions) {}

  get secrets(): SecretStore {
    return this.secretStore;
  }

  get configured(): boolean {
    return this.opts.file !== undefined;
  }

  /** Loads secrets, syncs the file if there is one, and starts watching it. */
  async start(): Promise<void> {
    try {
      this.secretStore = SecretStore.load(this.opts.secretsFile, this.opts.env);
    } catch (err) {
      this.opts.logger.warn({ reason: (err as Error).message }, 'connector secrets not loaded');
    }
    if (!this.opts.file) return;
    await this.sync('start');
    this.watch(this.opts.file);
  }

  stop(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  sync(trigger: SyncTrigger): Promise<SyncResult> {
    const run = this.queue.then(() => this.syncNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The definitions of the newest revision in the database, recompiled only when it moved. */
  async current(): Promise<CompiledRegistry> {
    const row = await this.opts.knex(TABLE).select('revision').where({ id: 1 }).first();
    const revision = Number(row?.revision ?? 0);
    if (this.compiled && this.compiled.revision === revision) return this.compiled.registry;
    const full = (await this.opts.knex(TABLE).where({ id: 1 }).first()) as RegistryRow | undefined;
    const outcome = compileRegistryText(full?.definitions ?? '{}');
    if (!outcome.ok) {
      // Only a newer server version could store what this one cannot compile; keep serving what we have.
      this.opts.logger.error(
        { revision, problems: outcome.problems.length },
        'stored connector definitions do not compile here',
      );
      if (this.compiled) return this.compiled.registry;
      const empty = compileRegistry({});
      if (!empty.ok) throw new Error('the empty registry does not compile');
      return empty.registry;
    }
    this.compiled = { revision: Number(full?.revision ?? 0), registry: outcome.registry };
    return outcome.registry;
  }

  async status(): Promise<SyncStatus> {
    const row = (await this.opts.knex(TABLE).where({ id: 1 }).first()) as RegistryRow;
    const registry = await this.current();
    return {
      registry: { configured: this.configured, file: this.opts.file ?? null },
      active: {
        revision: Number(row.revision),
        syncedAt: row.synced_at,
        syncedFrom: row.synced_from,
        connectors: registry.simple.size,
        compositeConnectors: registry.composite.size,
      },
      lastAttempt: row.attempt_at
        ? {
            at: row.attempt_at,
            ok: Boolean(row.attempt_ok),
            trigger: row.attempt_source,
            problems: row.attempt_problems ? (JSON.parse(row.attempt_problems) as RegistryProblem[]) : [],
          }
        : null,
    };
  }

  private async syncNow(trigger: SyncTrigger): Promise<SyncResult> {
    const file = this.opts.file;
    if (!file) return { ok: false, problems: [{ path: '(config)', message: 'CONNECTORS_REGISTRY is not set' }] };
    const at = new Date().toISOString();
    const { problems, registry, secrets } = await this.check(file);
    if (!registry || !secrets) {
      await this.opts
        .knex(TABLE)
        .where({ id: 1 })
        .update({
          attempt_at: at,
          attempt_ok: false,
          attempt_problems: JSON.stringify(problems),
          attempt_source: trigger,
        });
      this.opts.logger.warn(
        { trigger, problems },
        'connector registry refused; the previous definitions stay in force',
      );
      return { ok: false, problems };
    }
    const definitions = JSON.stringify(registry.document);
    const hash = createHash('sha256').update(definitions).digest('hex');
    const revision = await this.opts.knex.transaction(async (trx) => {
      const attempt = {
        attempt_at: at,
        attempt_ok: true,
        attempt_problems: null,
        attempt_source: trigger,
        synced_at: at,
        synced_from: trigger,
      };
      // One conditional update: the revision moves only when the definitions differ, atomically.
      const moved = await trx(TABLE)
        .where({ id: 1 })
        .whereNot({ definitions_hash: hash })
        .update({ ...attempt, definitions, definitions_hash: hash, revision: trx.raw('revision + 1') });
      if (moved === 0) await trx(TABLE).where({ id: 1 }).update(attempt);
      const row = await trx(TABLE).select('revision').where({ id: 1 }).first();
      return Number(row.revision);
    });
    this.compiled = { revision, registry };
    this.secretStore = secrets;
    this.opts.logger.info(
      { trigger, revision, connectors: registry.simple.size, compositeConnectors: registry.composite.size },
      'connector registry synced',
    );
    return { ok: true, revision };
  }

  private async check(
    file: string,
  ): Promise<{ problems: RegistryProblem[]; registry?: CompiledRegistry; secrets?: SecretStore }> {
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (err) {
      return {
        problems: [
          {
            path: '(file)',
            message: `cannot read ${path.basename(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
          },
        ],
      };
    }
    const outcome = compileRegistryText(text);
    if (!outcome.ok) return { problems: outcome.problems };
    try {
      return {
        problems: [],
        registry: outcome.registry,
        secrets: SecretStore.load(this.opts.secretsFile, this.opts.env),
      };
    } catch (err) {
      return { problems: [{ path: '(secrets)', message: (err as Error).message }] };
    }
  }

  /** Watches the directory (editors replace files by rename), debouncing bursts of events. */
  private watch(file: string): void {
    const dir = path.dirname(path.resolve(file));
    const base = path.basename(file);
    try {
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (name !== null && name.toString() !== base) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          this.sync('watch').catch((err: Error) =>
            this.opts.logger.error({ error: err.name }, 'connector registry sync failed'),
          );
        }, DEBOUNCE_MS);
      });
      this.watcher.on('error', (err) => this.opts.logger.warn({ error: err.name }, 'connector registry watch stopped'));
    } catch (err) {
      this.opts.logger.warn(
        { error: (err as Error).name },
        'connector registry cannot be watched; use POST /rest/admin/v1/connectors/sync',
      );
    }
  }
}
