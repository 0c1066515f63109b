// Owns `npm run bench`: a fresh database, the real server as a child process, then floor, composite,
// separate, throughput and selection measured side by side in one run; prints the table, writes JSON.
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freshDatabase, type Driver } from './database';
import { startServer, type ServerUnderTest } from './server';
import { startHttpFloor, type HttpFloor } from './httpFloor';
import {
  basicAuth,
  BenchClient,
  compositeBody,
  sendComposite,
  sendSeparate,
  splitComposite,
  type CompositeSplit,
} from './client';
import { measureInterleaved } from './stats';
import { runThroughput } from './throughput';
import {
  bulkLoadActivities,
  captureSelectionSql,
  directSelection,
  floorWriter,
  selectionComposite,
  usesIndex,
} from './workloads';
import { printTable, ratios, references, writeJson, type Results } from './report';
import { heapSnapshotArgs, runRoundTwo } from './roundTwo';
import { printRoundTwo, writeRoundTwo } from './roundTwoReport';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number`);
  return Number(raw);
}

const settings = {
  runs: envInt('BENCH_RUNS', 200),
  warmup: envInt('BENCH_WARMUP', 50),
  throughputSeconds: envInt('BENCH_DURATION', 10),
  connections: 16,
  selectionRows: envInt('BENCH_ROWS', 100000),
  serverLogLevel: process.env.BENCH_LOG_LEVEL || 'info',
  roundTwoRuns: envInt('BENCH_ROUND2_RUNS', 100),
  loadConnections: 64,
  loadSeconds: envInt('BENCH_LOAD_SECONDS', 30),
};
const resultsDir = process.env.BENCH_RESULTS_DIR || path.join(__dirname, '..', '..', 'bench', 'results');

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<void> {
  const db = await freshDatabase(process.env.DATABASE_URL);
  let server: ServerUnderTest | undefined;
  let driver: Driver | undefined;
  let httpFloor: HttpFloor | undefined;
  let expressFloor: HttpFloor | undefined;
  const clients: BenchClient[] = [];
  try {
    const adminPassword = randomBytes(12).toString('hex');
    const nodeArgs = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`]
      : [];
    nodeArgs.push(...heapSnapshotArgs(process.env.BENCH_HEAP_SNAPSHOT));
    log(`starting the server on a fresh ${db.kind} database`);
    const serverEnv = {
      DATABASE_URL: db.url,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: adminPassword,
      LOG_LEVEL: settings.serverLogLevel,
    };
    server = await startServer(serverEnv, nodeArgs);

    const admin = new BenchClient(server.origin, basicAuth('admin', adminPassword));
    clients.push(admin);
    const userPassword = randomBytes(12).toString('hex');
    const user = await admin.request(
      'POST',
      '/rest/admin/v1/users',
      JSON.stringify({ data: { attributes: { username: 'bench', password: userPassword, roles: ['user'] } } }),
    );
    const userId = Number(
      (JSON.parse(user.text) as { data: { attributes: { id: string } } }).data.attributes.id.split(':')[1],
    );
    const authorization = basicAuth('bench', userPassword);
    const client = new BenchClient(server.origin, authorization);
    clients.push(client);
    driver = await db.connect();
    const d = driver;
    httpFloor = await startHttpFloor(db.url, userId);
    expressFloor = await startHttpFloor(db.url, userId, 'express');
    const bare = new BenchClient(httpFloor.origin, authorization);
    clients.push(bare);

    log(`bulk-loading ${settings.selectionRows} activities through the driver`);
    await bulkLoadActivities(d, settings.selectionRows);
    const queries = await captureSelectionSql(db.url);
    const plans = await Promise.all(queries.map((q) => d.explain(q.sql, q.bindings)));
    const selBody = selectionComposite();
    log('measuring the selection');
    const sel = await measureInterleaved(settings.warmup, settings.runs, {
      composite: () => sendComposite(client, selBody),
      direct: directSelection(d, queries),
    });

    log('measuring floor, composite and separate');
    const floor = floorWriter(d, userId);
    const body10 = compositeBody(10);
    const body100 = compositeBody(100);
    const latency = await measureInterleaved(settings.warmup, settings.runs, {
      'floor(10)': () => floor(10),
      'floor(100)': () => floor(100),
      'http-floor(10)': () => bare.request('POST', '/', body10),
      'http-floor(100)': () => bare.request('POST', '/', body100),
      'composite(10)': () => sendComposite(client, body10),
      'composite(100)': () => sendComposite(client, body100),
      'separate(10)': () => sendSeparate(client, 10),
      'separate(100)': () => sendSeparate(client, 100),
    });

    const splits: CompositeSplit[] = [];
    for (let i = 0; i < settings.runs; i++) splits.push(await splitComposite(client, body100));
    const median = (k: keyof CompositeSplit) => splits.map((x) => x[k]).sort((a, b) => a - b)[splits.length >> 1];
    const httpFloorBytes = Buffer.byteLength((await bare.request('POST', '/', body100)).text);
    const split = {
      client: median('client'),
      handler: median('handler'),
      subrequests: median('subrequests'),
      writes: median('writes'),
      commit: median('commit'),
      responseBytes: median('responseBytes'),
    };

    log(`throughput: ${settings.connections} clients for ${settings.throughputSeconds}s`);
    const throughput = await runThroughput(server.origin, authorization, {
      connections: settings.connections,
      durationS: settings.throughputSeconds,
      n: 10,
      serverPid: server.pid,
    });
    const roundTwo = await runRoundTwo({
      database: db.kind,
      server,
      serverEnv,
      httpFloorOrigin: httpFloor.origin,
      expressFloorOrigin: expressFloor.origin,
      user: { username: 'bench', password: userPassword },
      adminAuthorization: basicAuth('admin', adminPassword),
      log,
      settings: {
        throughputSeconds: settings.throughputSeconds,
        selectionRows: settings.selectionRows,
        warmup: settings.warmup,
        runs: settings.roundTwoRuns,
        loadConnections: settings.loadConnections,
        loadSeconds: settings.loadSeconds,
        heapSnapshot: !!process.env.BENCH_HEAP_SNAPSHOT,
        resultsDir,
      },
    });

    const partial: Omit<Results, 'ratios' | 'references'> = {
      database: db.kind,
      when: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        commit: gitCommit(),
      },
      settings,
      latency,
      composite100Split: split,
      httpFloor100ResponseBytes: httpFloorBytes,
      throughput,
      selection: {
        composite: sel.composite,
        direct: sel.direct,
        statements: queries.map((q) => q.sql),
        plans,
        indexUsed: plans.every(usesIndex),
        rows: settings.selectionRows,
      },
      peakRss: {
        MiB: server.peakRssMiB(),
        source: `VmHWM of the server child process (pid ${server.pid}) from /proc/<pid>/status`,
      },
    };
    const results: Results = { ...partial, ratios: ratios(partial), references: references(partial) };
    printTable(results);
    printRoundTwo(roundTwo);
    for (const file of [writeJson(results, resultsDir), writeRoundTwo(roundTwo, resultsDir)])
      log(`wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await driver?.close();
    await httpFloor?.stop();
    await expressFloor?.stop();
    await server?.stop();
    await db.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
