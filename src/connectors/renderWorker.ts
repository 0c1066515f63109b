// Owns the render worker thread: receives a batch of template sources with one context, compiles
// each (cached by source), renders them one after another under the size limits, and answers the
// rendered values and which of them read a secret — or the first failure, described without data.
// The worker may be terminated at any moment (time limit); it holds nothing that must survive.
import { parentPort } from 'node:worker_threads';
import { SecretStore } from './secrets';
import { compileTemplate, type CompiledTemplate } from './template';
import { describeRenderError } from './templateRenderError';

export interface RenderJob {
  id: number;
  templates: Array<{ source: string; secrets: boolean }>;
  context: Record<string, unknown>;
  /** Present when a template of the batch may call get_secret(). */
  secrets?: ReadonlyMap<string, string>;
  /** Steps in `context.steps` whose data is a secret (a token response): reading it counts as reading a secret. */
  secretSteps?: readonly string[];
  maxChars: number;
}

export type RenderAnswer =
  | { id: number; ok: true; values: string[]; readSecret: boolean[] }
  | { id: number; ok: false; index: number; message: string };

const MAX_CACHED = 2000;
const compiled = new Map<string, CompiledTemplate>();

function compiledFor(source: string, secrets: boolean): CompiledTemplate {
  const key = `${secrets ? 's' : '-'}${source}`;
  let t = compiled.get(key);
  if (!t) {
    if (compiled.size >= MAX_CACHED) compiled.clear();
    t = compileTemplate(source, { secrets });
    compiled.set(key, t);
  }
  return t;
}

/** The same data, each member read through a getter that reports the read. */
function reportingReads(data: Record<string, unknown>, onRead: () => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data))
    Object.defineProperty(out, key, { enumerable: true, get: () => (onRead(), value) });
  return out;
}

export function renderBatch(job: RenderJob): RenderAnswer {
  const store = job.secrets ? SecretStore.fromSnapshot(job.secrets) : SecretStore.empty();
  let readSecret = false;
  const context: Record<string, unknown> = {
    ...job.context,
    get_secret: (name: unknown) => ((readSecret = true), store.get(name)),
  };
  const steps = context.steps as Record<string, Record<string, unknown>> | undefined;
  for (const name of job.secretSteps ?? []) {
    if (steps?.[name]) steps[name] = reportingReads(steps[name], () => (readSecret = true));
  }
  const values: string[] = [];
  const used: boolean[] = [];
  for (const [index, t] of job.templates.entries()) {
    readSecret = false;
    try {
      values.push(compiledFor(t.source, t.secrets).render(context, job.maxChars));
    } catch (err) {
      return { id: job.id, ok: false, index, message: describeRenderError(err) };
    }
    used.push(readSecret);
  }
  return { id: job.id, ok: true, values, readSecret: used };
}

parentPort?.on('message', (job: RenderJob) => parentPort?.postMessage(renderBatch(job)));
// Loaded: the pool's time limits start from here, not from the thread's start-up.
parentPort?.postMessage('ready');
