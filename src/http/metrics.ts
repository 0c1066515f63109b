// Owns GET /metrics and what it shows: one Prometheus registry per app (tests build many apps in one
// process), fed by the request middleware here and by the observer seam (src/observe.ts) the lower
// floors report through, plus Node's process metrics from one registry per process. Labels hold only
// fixed words: operation ids, methods, status codes, outcomes — never an id, a user or a request value.
import type { Request, RequestHandler, Response } from 'express';
import type { Knex } from 'knex';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { errors } from '../errors';
import type { Observer, TransactionOutcome } from '../observe';

/** The label of a request that reached no operation: unknown paths, and refusals before routing (401, 413…). */
export const UNMATCHED = 'unmatched';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SIZES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** Names the operation a request is counted under (res.locals.operation), for routes outside the route table. */
export function countAs(operation: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.operation = operation;
    next();
  };
}

let processRegistry: Registry | undefined;

/** Node's default metrics describe the process, not an app: one registry, made on the first scrape. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

interface TarnPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

/** Where a storage fault and a committed write are reported besides the counters (readiness). */
export interface StorageHealth {
  storageFault(code: string): void;
  wroteOk(): void;
}

export class AppMetrics implements Observer {
  readonly registry = new Registry();
  private readonly requests;
  private readonly requestSeconds;
  private readonly compositeSize;
  private readonly subrequests;
  private readonly batchSize;
  private readonly transactionSeconds;
  private readonly transactionRetries;
  private readonly storageFaults;
  private readonly stepSeconds;
  private readonly stepFailures;

  constructor(
    knex: Knex,
    private readonly storage: StorageHealth,
  ) {
    const registers = [this.registry];
    const labels = ['operation', 'method', 'status'] as const;
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by operation id, method and status',
      labelNames: labels,
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by operation id, method and status',
      labelNames: labels,
      buckets: SECONDS,
      registers,
    });
    this.compositeSize = new Histogram({
      name: 'composite_size',
      help: 'Subrequests per composite, by part (requests or selections)',
      labelNames: ['part'] as const,
      buckets: [0, ...SIZES],
      registers,
    });
    this.subrequests = new Counter({
      name: 'subrequests_total',
      help: 'Subrequests run inside composites and batches, by source',
      labelNames: ['source'] as const,
      registers,
    });
    this.batchSize = new Histogram({ name: 'batch_size', help: 'Subrequests per batch', buckets: SIZES, registers });
    this.transactionSeconds = new Histogram({
      name: 'db_transaction_duration_seconds',
      help: 'Time of a database transaction including its retries, by outcome',
      labelNames: ['outcome'] as const,
      buckets: SECONDS,
      registers,
    });
    this.transactionRetries = new Counter({
      name: 'db_transaction_retries_total',
      help: 'Times a transaction was tried again after a serialization failure, deadlock or busy database',
      registers,
    });
    this.storageFaults = new Counter({
      name: 'db_storage_faults_total',
      help: 'Writes that failed for lack of storage (disk full, I/O error)',
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'connector_step_duration_seconds',
      help: 'Time of one connector step, by kind of connector and outcome',
      labelNames: ['connector', 'outcome'] as const,
      buckets: SECONDS,
      registers,
    });
    this.stepFailures = new Counter({
      name: 'connector_step_failures_total',
      help: 'Connector steps that failed, by scope (http, network, outbound, template)',
      labelNames: ['scope'] as const,
      registers,
    });
    const pool = () => (knex.client as { pool?: TarnPool }).pool;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database connections of the pool, by state (used, free, pending_acquire, pending_create, max)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const p = pool();
        if (!p) return;
        this.set({ state: 'used' }, p.numUsed());
        this.set({ state: 'free' }, p.numFree());
        this.set({ state: 'pending_acquire' }, p.numPendingAcquires());
        this.set({ state: 'pending_create' }, p.numPendingCreates());
        this.set({ state: 'max' }, p.max);
      },
    });
  }

  /** Counts and times an answered request under the operation it reached (called by the request log, which times it). */
  request(req: Request, res: Response, seconds: number): void {
    const operation = typeof res.locals.operation === 'string' ? res.locals.operation : UNMATCHED;
    const labels = {
      operation,
      method: METHODS.has(req.method) ? req.method : 'other',
      status: String(res.statusCode),
    };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }

  /** GET /metrics: admins only (after `auth`), or anyone when METRICS_PUBLIC=true. */
  endpoint(auth: RequestHandler, isPublic: boolean): RequestHandler[] {
    const answer: RequestHandler = (_req, res, next) => {
      Promise.all([processMetrics().metrics(), this.registry.metrics()])
        .then(([process, app]) => res.status(200).type(this.registry.contentType).send(`${process}\n${app}`))
        .catch(next);
    };
    if (isPublic) return [countAs('metrics'), answer];
    const adminOnly: RequestHandler = (req, _res, next) => {
      if (!req.caller?.roles.includes('admin'))
        return next(errors.forbidden('Metrics are for admins (or set METRICS_PUBLIC=true)'));
      next();
    };
    return [countAs('metrics'), auth, adminOnly, answer];
  }

  transaction(seconds: number, retries: number, outcome: TransactionOutcome): void {
    this.transactionSeconds.observe({ outcome }, seconds);
    if (retries > 0) this.transactionRetries.inc(retries);
    if (outcome === 'committed') this.storage.wroteOk();
  }

  storageFault(code: string): void {
    this.storageFaults.inc();
    this.storage.storageFault(code);
  }

  composite(requests: number, selections: number): void {
    this.compositeSize.observe({ part: 'requests' }, requests);
    this.compositeSize.observe({ part: 'selections' }, selections);
    this.subrequests.inc({ source: 'composite_request' }, requests);
    this.subrequests.inc({ source: 'composite_selection' }, selections);
  }

  batch(size: number): void {
    this.batchSize.observe(size);
    this.subrequests.inc({ source: 'batch' }, size);
  }

  connectorStep(connector: 'simple' | 'composite', seconds: number, failure: string | undefined): void {
    this.stepSeconds.observe({ connector, outcome: failure === undefined ? 'ok' : 'failed' }, seconds);
    if (failure !== undefined) this.stepFailures.inc({ scope: failure });
  }
}
