// Owns rendering connector templates off the main thread: a small pool of worker threads, a queue,
// and a time limit per batch. A template that loops or builds huge strings can then never stall
// other requests: the worker running it is terminated when its time is up (or it runs out of its
// heap) and replaced, and the batch fails with a TemplateLimitError.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RenderAnswer, RenderJob } from './renderWorker';
import { TemplateLimitError } from './templateLimits';

/** Two threads: enough to keep one hostile template from queueing every other render behind it. */
const POOL_SIZE = 2;
/**
 * A worker's heap. No single allocation may come near it: V8 aborts the whole process, not just the
 * worker, when one allocation overshoots the limit. With every string at most maxChars, the largest
 * (an escaping filter's result, two-byte) is about 16 bytes a character, so the heap is twice that.
 */
function workerHeapMb(maxChars: number): number {
  return Math.max(256, Math.ceil((maxChars * 32) / 2 ** 20));
}

const SHUTTING_DOWN = 'the server is shutting down';

export interface RenderBatch {
  templates: RenderJob['templates'];
  context: Record<string, unknown>;
  secrets?: ReadonlyMap<string, string>;
  secretSteps?: readonly string[];
}

/** A failure's index is the template that failed, or -1 for the batch (time, memory). */
export type RenderResult =
  { ok: true; values: string[]; readSecret: boolean[] } | { ok: false; index: number; message: string };

interface Pending {
  job: RenderJob;
  resolve(result: RenderResult): void;
  timeoutMs: number;
  /** Set when the job reaches a worker: the time limit is the template's, not the queue's or a worker's start-up. */
  timer?: NodeJS.Timeout;
  worker?: Worker;
}

/** Under ts-jest the sources are TypeScript: the worker then transpiles them as it requires them. */
function startWorker(heapMb: number): Worker {
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `renderWorker${ext}`);
  const resourceLimits = { maxOldGenerationSizeMb: heapMb };
  if (ext !== '.ts') return new Worker(entry, { resourceLimits });
  const code = `
    const fs = require('fs');
    const ts = require(${JSON.stringify(require.resolve('typescript'))});
    require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'),
      { fileName: file, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
    require(${JSON.stringify(entry)});`;
  return new Worker(code, { eval: true, resourceLimits });
}

export class RenderPool {
  private readonly idle: Worker[] = [];
  /** Spawned, still loading its modules (it says 'ready' when done). */
  private readonly starting = new Set<Worker>();
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  private readonly heapMb: number;

  constructor(private readonly maxChars: number) {
    this.heapMb = workerHeapMb(maxChars);
  }

  /** Renders a batch, given timeoutMs once a worker has it; resolves with the values or the first failure. */
  render(batch: RenderBatch, timeoutMs: number): Promise<RenderResult> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ ok: false, index: -1, message: SHUTTING_DOWN });
      const job: RenderJob = { id: this.nextId++, ...batch, maxChars: this.maxChars };
      this.queue.push({ job, resolve, timeoutMs });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.starting, ...this.busy.keys()];
    this.starting.clear();
    this.idle.length = 0;
    for (const p of [...this.queue, ...this.busy.values()])
      this.finish(p, { ok: false, index: -1, message: SHUTTING_DOWN });
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const worker = this.idle.pop();
      if (!worker) {
        if (this.starting.size === 0 && this.busy.size < POOL_SIZE) this.spawn();
        return;
      }
      const pending = this.queue.shift() as Pending;
      pending.worker = worker;
      pending.timer = setTimeout(() => this.timedOut(pending), Math.max(1, pending.timeoutMs));
      this.busy.set(worker, pending);
      try {
        worker.postMessage(pending.job);
      } catch {
        // Data that cannot be copied to the worker (never expected: contexts are plain JSON-like data).
        this.busy.delete(worker);
        this.idle.push(worker);
        this.finish(pending, {
          ok: false,
          index: -1,
          message: 'the template context could not be handed to the renderer',
        });
      }
    }
  }

  private spawn(): void {
    const worker = startWorker(this.heapMb);
    this.starting.add(worker);
    // An idle worker must not keep the process alive.
    worker.unref();
    worker.on('message', (answer: RenderAnswer | 'ready') => {
      if (answer === 'ready') {
        this.starting.delete(worker);
        this.idle.push(worker);
        return this.dispatch();
      }
      const pending = this.busy.get(worker);
      if (!pending || pending.job.id !== answer.id) return;
      this.busy.delete(worker);
      this.idle.push(worker);
      const { id: _id, ...result } = answer;
      this.finish(pending, result);
      this.dispatch();
    });
    // Out of heap, or any other death: the batch it ran fails; the next render starts a fresh worker.
    worker.on('error', (err: NodeJS.ErrnoException) => {
      const limit =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `used more than its ${this.heapMb} MB of memory`
          : 'stopped unexpectedly';
      this.retire(worker, `rendering ${limit}`);
    });
    worker.on('exit', () => this.retire(worker, 'rendering stopped unexpectedly'));
  }

  private timedOut(pending: Pending): void {
    const message = new TemplateLimitError(
      `rendering did not finish within ${pending.timeoutMs} ms (CONNECTOR_TIMEOUT_MS)`,
    ).message;
    const worker = pending.worker as Worker;
    // terminate() stops even a tight loop; the next dispatch starts a fresh worker.
    this.retire(worker, message);
    void worker.terminate();
  }

  private retire(worker: Worker, message: string): void {
    if (this.starting.delete(worker)) {
      // It died loading: every waiting batch fails now rather than respawning in a loop.
      for (const p of this.queue.splice(0))
        this.finish(p, { ok: false, index: -1, message: 'rendering is unavailable (the render worker did not start)' });
      return;
    }
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    if (pending) this.finish(pending, { ok: false, index: -1, message });
    this.dispatch();
  }

  private finish(pending: Pending, result: RenderResult): void {
    if (pending.timer) clearTimeout(pending.timer);
    pending.resolve(result);
  }
}
