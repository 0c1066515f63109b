// Owns the second round of `npm run bench` (issue 21): the newer APIs against their alternatives and the
// targets against the HTTP floor, each measured in REPEATS interleaved repetitions in one run so every
// ratio is reported as min / median / max. Workloads: http-floor, composite, composite on a
// server whose metrics are switched per call (bench/metricsSwitch.ts), an Idempotency-Key composite, batch against
// separate notes, an async composite (to the 202 and to completion), and a /metrics scrape.
import {
  ApiClient,
  batchBody,
  createActivity,
  sendAsyncComposite,
  sendBatch,
  sendKeyedComposite,
  sendSeparateNotes,
} from './apiClient';
import { compositeBody, COMPOSITE_PATH } from './client';
import { cpuNs } from './cpuTime';
import { METRICS_SWITCH_HEADER } from './metricsSwitchHeader';
import { median } from './stats';

export const REPEATS = 3;

export interface Endpoints {
  /** The server under test (metrics on, as shipped). */
  main: ApiClient;
  /** For the metrics A/B: one more server, its metrics switched off per call by a header (bench/metricsSwitch.ts). */
  metricsAB: ApiClient;
  /** The bare node:http handler (bench/httpFloor.ts). */
  floor: ApiClient;
  /** The same handler behind Express: what the framework the server keeps adds. */
  expressFloor: ApiClient;
  /** Admin on the main server, for /metrics. */
  admin: ApiClient;
  /** The process id of that server, for the server CPU each call costs. */
  metricsPid: number;
}

/** Milliseconds of each workload in one repetition, by name; a workload may add named sub-times. */
export type Medians = Record<string, number>;

export interface RepeatedRatio {
  name: string;
  values: number[];
  min: number;
  median: number;
  max: number;
  target?: string;
  met?: boolean;
}

export interface NewApiResults {
  runsPerRepeat: number;
  warmup: number;
  repeats: Medians[];
  ratios: RepeatedRatio[];
}

type Workload = () => Promise<void | Record<string, number>>;

/**
 * The order with each A/B pair (`…, metrics on` then `…, metrics off`) swapped. A call next to a call
 * to another server costs more than one between two calls to the same server (seen as a steady +9 %
 * for whichever side of the metrics pair sat at the edge); with the pairs swapped every other
 * forward-and-back, each side sits at the edge as often as the other.
 */
function swapAbPairs(order: Array<[string, Workload]>): Array<[string, Workload]> {
  const out = [...order];
  for (let i = 0; i + 1 < out.length; i++) {
    if (out[i][0].endsWith(', metrics on') && out[i + 1][0] === out[i][0].replace(/on$/, 'off')) {
      [out[i], out[i + 1]] = [out[i + 1], out[i]];
      i++;
    }
  }
  return out;
}

/**
 * One repetition: every workload in turn, `runs` times; the median of each (and of each sub-time).
 * Rounds cycle through four orders — forward, reversed, forward with the A/B pairs swapped, that
 * reversed: what runs first after another server (or the same one) pays or saves a little, and the
 * metrics A/B showed it as a few percent.
 * For a workload named in `cpuOf` it also gives `<name> server CPU`: the CPU time that server spent on
 * the measured call, read before it and 2 ms after its answer came back, so that the work the server
 * does after answering (the request log, the metrics) is counted too.
 */
async function repetition(
  runs: number,
  fns: Record<string, Workload>,
  cpuOf: Record<string, number> = {},
): Promise<Medians> {
  const times: Record<string, number[]> = {};
  const add = (k: string, ms: number) => (times[k] ??= []).push(ms);
  const forward = Object.entries(fns);
  const swapped = swapAbPairs(forward);
  const orders = [forward, [...forward].reverse(), swapped, [...swapped].reverse()];
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of orders[i % 4]) {
      await fn(); // unmeasured, to the same target first: see measureInterleaved in bench/stats.ts
      const pid = cpuOf[name];
      const cpuBefore = pid === undefined ? undefined : cpuNs(pid);
      const start = process.hrtime.bigint();
      const parts = await fn();
      add(name, Number(process.hrtime.bigint() - start) / 1e6);
      if (parts) for (const [part, ms] of Object.entries(parts)) add(`${name} ${part}`, ms);
      if (cpuBefore !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        const cpuAfter = cpuNs(pid);
        if (cpuAfter !== undefined) add(`${name} server CPU`, (cpuAfter - cpuBefore) / 1e6);
      }
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, t]) => [k, median(t)]));
}

function workloads(e: Endpoints, activityId: string): Record<string, Workload> {
  const body10 = compositeBody(10);
  const body100 = compositeBody(100);
  const batch100 = batchBody(activityId, 100);
  const post =
    (c: ApiClient, body: string, headers: Record<string, string> = {}) =>
    async () =>
      void (await c.send('POST', COMPOSITE_PATH, body, headers));
  const metricsOff = { [METRICS_SWITCH_HEADER]: 'off' };
  return {
    'http-floor(10)': async () => void (await e.floor.send('POST', '/', body10)),
    'http-floor(100)': async () => void (await e.floor.send('POST', '/', body100)),
    'http-floor(10) + Idempotency-Key': () => sendKeyedComposite(e.floor, body10, '/'),
    'express-floor(10)': async () => void (await e.expressFloor.send('POST', '/', body10)),
    'express-floor(100)': async () => void (await e.expressFloor.send('POST', '/', body100)),
    'composite(10)': post(e.main, body10),
    'composite(100)': post(e.main, body100),
    'A/B composite(10), metrics on': post(e.metricsAB, body10),
    'A/B composite(10), metrics off': post(e.metricsAB, body10, metricsOff),
    'A/B composite(100), metrics on': post(e.metricsAB, body100),
    'A/B composite(100), metrics off': post(e.metricsAB, body100, metricsOff),
    'composite(10) + Idempotency-Key': () => sendKeyedComposite(e.main, body10),
    'batch(100)': () => sendBatch(e.main, batch100),
    'separate notes(100)': () => sendSeparateNotes(e.main, activityId, 100),
    'async composite(100)': async () => {
      const t = await sendAsyncComposite(e.main, body100, 1);
      return { 'to 202': t.acceptedMs, 'to complete': t.completeMs };
    },
    'GET /metrics': async () => void (await e.admin.send('GET', '/metrics')),
  };
}

const over = (a: string, b: string) => (m: Medians) => m[a] / m[b];
const overheadPct = (a: string, b: string) => (m: Medians) => 100 * (m[a] / m[b] - 1);

/** The ratios, each from one repetition's medians; `limit` is the target where it sets one. */
const RATIOS: Array<{ name: string; of: (m: Medians) => number; limit?: number }> = [
  { name: 'composite(100) / http-floor(100)', of: over('composite(100)', 'http-floor(100)'), limit: 1.25 },
  { name: 'composite(10) / http-floor(10)', of: over('composite(10)', 'http-floor(10)'), limit: 1.5 },
  // References with no target: what Express alone adds to the floor, and the server against that.
  ...[100, 10].flatMap((n) => [
    { name: `express-floor(${n}) / http-floor(${n})`, of: over(`express-floor(${n})`, `http-floor(${n})`) },
    { name: `composite(${n}) / express-floor(${n})`, of: over(`composite(${n})`, `express-floor(${n})`) },
  ]),
  { name: 'separate notes(100) / batch(100)', of: over('separate notes(100)', 'batch(100)') },
  { name: 'batch(100) / composite(100)', of: over('batch(100)', 'composite(100)') },
  {
    name: 'Idempotency-Key overhead on composite(10), %',
    of: overheadPct('composite(10) + Idempotency-Key', 'composite(10)'),
    limit: 10,
  },
  // What the key's fingerprint, lookup and record cost on their own (the floor runs the server's
  // statements and nothing else), as a share of the plain composite(10): the part of the overhead above
  // that no keyed call can shed.
  {
    name: 'Idempotency-Key on the HTTP floor(10), % of composite(10)',
    of: (m) => (100 * (m['http-floor(10) + Idempotency-Key'] - m['http-floor(10)'])) / m['composite(10)'],
  },
  {
    name: 'async composite(100) to 202 / sync composite(100)',
    of: over('async composite(100) to 202', 'composite(100)'),
  },
  {
    name: 'async composite(100) to complete / sync composite(100)',
    of: over('async composite(100) to complete', 'composite(100)'),
  },
  ...[100, 10].flatMap((n) => {
    const on = `A/B composite(${n}), metrics on`;
    const off = `A/B composite(${n}), metrics off`;
    return [
      { name: `metrics overhead on composite(${n}), %`, of: overheadPct(on, off), limit: 3 },
      {
        name: `metrics overhead on composite(${n}), server CPU %`,
        of: overheadPct(`${on} server CPU`, `${off} server CPU`),
      },
    ];
  }),
];

export async function measureNewApis(
  e: Endpoints,
  opts: { warmup: number; runs: number },
  log: (msg: string) => void,
): Promise<NewApiResults> {
  const activityId = await createActivity(e.main);
  const fns = workloads(e, activityId);
  const cpuOf: Record<string, number> = {};
  for (const n of [10, 100]) {
    cpuOf[`A/B composite(${n}), metrics on`] = e.metricsPid;
    cpuOf[`A/B composite(${n}), metrics off`] = e.metricsPid;
  }
  log(`second round: ${opts.warmup} warm-up rounds, then ${REPEATS} repetitions of ${opts.runs} interleaved rounds`);
  await repetition(opts.warmup, fns);
  const repeats: Medians[] = [];
  for (let r = 0; r < REPEATS; r++) {
    repeats.push(await repetition(opts.runs, fns, cpuOf));
    log(`  repetition ${r + 1} of ${REPEATS} done`);
  }
  const ratios = RATIOS.map(({ name, of, limit }) => {
    const values = repeats.map(of);
    const s = [...values].sort((a, b) => a - b);
    const worst = s[s.length - 1];
    return {
      name,
      values,
      min: s[0],
      median: median(values),
      max: worst,
      ...(limit !== undefined ? { target: `≤ ${limit}`, met: worst <= limit } : {}),
    };
  });
  return { runsPerRepeat: opts.runs, warmup: opts.warmup, repeats, ratios };
}
