// Owns the asynchronous worker: claims accepted requests from the database and runs at most
// ASYNC_CONCURRENCY at once, picks up what a dead process left unfinished, and purges old records.
import { randomUUID } from 'node:crypto';
import type { Runtime } from '../api/operation';
import { isSqlite } from '../db/knex';
import { claimNext, purge, releaseOrphans, type RequestRecord } from './records';
import { iso, LEASE_MS } from './run';

/** How often the database is asked for work another instance accepted (or a lease that ran out). */
const POLL_MS = 1000;
const PURGE_MS = 10 * 60 * 1000;

export class AsyncWorker {
  private running = 0;
  private stopped = true;
  private filling: Promise<void> | undefined;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly rt: Runtime,
    private readonly run: (record: RequestRecord) => Promise<void>,
  ) {}

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    // One process serves a SQLite file: what is in progress at start was left by one that died.
    if (isSqlite(this.rt.pool)) await releaseOrphans(this.rt.pool);
    await this.purge();
    this.timers = [setInterval(() => this.kick(), POLL_MS), setInterval(() => void this.purge(), PURGE_MS)];
    for (const t of this.timers) t.unref();
    this.kick();
  }

  /** Finishes what is running; claims nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.filling;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Looks for work now (a request was just accepted, or one finished and a slot is free). */
  kick(): void {
    if (this.stopped) return;
    if (this.filling) {
      this.again = true;
      return;
    }
    this.filling = this.fill().finally(() => {
      this.filling = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  async purge(): Promise<void> {
    try {
      await purge(this.rt.pool, iso());
    } catch (err) {
      this.rt.services.logger.warn({ error: (err as Error)?.name }, 'could not purge durable requests');
    }
  }

  private async fill(): Promise<void> {
    try {
      while (!this.stopped && this.running < this.rt.services.config.durable.asyncConcurrency) {
        const now = Date.now();
        const record = await claimNext(this.rt.pool, randomUUID(), iso(now + LEASE_MS), iso(now));
        if (!record) return;
        this.running++;
        const job: Promise<void> = this.run(record)
          .catch((err: unknown) => {
            this.rt.services.logger.error(
              { reqId: record.id, error: (err as Error)?.name },
              'asynchronous request failed',
            );
          })
          .finally(() => {
            this.running--;
            this.inFlight.delete(job);
            this.kick();
          });
        this.inFlight.add(job);
      }
    } catch (err) {
      this.rt.services.logger.warn({ error: (err as Error)?.name }, 'could not claim asynchronous requests');
    }
  }
}
