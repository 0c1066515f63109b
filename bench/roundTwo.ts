// Owns running the second round (issue 21) inside `npm run bench`: one more server whose metrics a
// request can switch off (bench/metricsSwitch.ts preloaded), on a database of its own loaded like the
// main one (SQLite allows one server per file); the repeated new-API measurements; then the memory run
// under 64 clients on the main server. Returns everything bench/roundTwoReport.ts prints and writes.
import path from 'node:path';
import { ApiClient } from './apiClient';
import { memoryUnderLoad } from './memory';
import { measureNewApis } from './newApis';
import { loadAverage, readStartup, type RoundTwo } from './roundTwoReport';
import { startServer, type ServerUnderTest } from './server';
import { basicAuth } from './client';
import { freshDatabase, type BenchDatabase } from './database';
import { bulkLoadActivities } from './workloads';
import { runThroughput } from './throughput';
import { measureTwoInstances, type TwoInstances } from './twoInstances';

export interface RoundTwoContext {
  database: RoundTwo['database'];
  server: ServerUnderTest;
  /** The environment the main server was started with (database, admin, log level). */
  serverEnv: Record<string, string>;
  httpFloorOrigin: string;
  /** The same handler behind Express (bench/httpFloor.ts, `express`). */
  expressFloorOrigin: string;
  user: { username: string; password: string };
  adminAuthorization: string;
  settings: {
    throughputSeconds: number;
    selectionRows: number;
    warmup: number;
    runs: number;
    loadConnections: number;
    loadSeconds: number;
    heapSnapshot: boolean;
    resultsDir: string;
  };
  log: (msg: string) => void;
}

/** Node options for the main server when a heap snapshot is wanted (BENCH_HEAP_SNAPSHOT=<dir>). */
export function heapSnapshotArgs(dir: string | undefined): string[] {
  return dir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${path.resolve(dir)}`] : [];
}

export async function runRoundTwo(ctx: RoundTwoContext): Promise<RoundTwo> {
  const start = loadAverage();
  const preload = path.join(__dirname, 'metricsSwitch.js');
  ctx.log('starting one more server, its metrics switched per call, on a database of its own');
  const servers: ServerUnderTest[] = [];
  const dbs: BenchDatabase[] = [];
  const clients: ApiClient[] = [];
  const client = (origin: string, auth: string) => {
    const c = new ApiClient(origin, auth);
    clients.push(c);
    return c;
  };
  try {
    const userAuthorization = basicAuth(ctx.user.username, ctx.user.password);
    // The metrics A/B server: calls with metrics on and off alternate in one process, so both sides
    // share its heap, compiled code and database (two servers differed by ±10 % with nothing changed).
    const abServer = async (nodeArgs: string[]) => {
      const db = await freshDatabase(ctx.database === 'sqlite' ? undefined : process.env.DATABASE_URL);
      dbs.push(db);
      const server = await startServer({ ...ctx.serverEnv, DATABASE_URL: db.url }, nodeArgs);
      servers.push(server);
      await client(server.origin, ctx.adminAuthorization).send(
        'POST',
        '/rest/admin/v1/users',
        JSON.stringify({ data: { attributes: { ...ctx.user, roles: ['user'] } } }),
      );
      const driver = await db.connect();
      try {
        await bulkLoadActivities(driver, ctx.settings.selectionRows);
      } finally {
        await driver.close();
      }
      // Warmed like the main server, which has been through the throughput run: V8 keeps optimizing the
      // composite path for thousands of requests, and a server measured cold measures the JIT.
      await runThroughput(server.origin, userAuthorization, { connections: 16, durationS: 3, n: 10 });
      return { server, client: client(server.origin, userAuthorization) };
    };
    const ab = await abServer(['--require', preload]);
    const admin = client(ctx.server.origin, ctx.adminAuthorization);
    const apis = await measureNewApis(
      {
        main: client(ctx.server.origin, userAuthorization),
        metricsAB: ab.client,
        floor: client(ctx.httpFloorOrigin, userAuthorization),
        expressFloor: client(ctx.expressFloorOrigin, userAuthorization),
        admin,
        metricsPid: ab.server.pid,
      },
      { warmup: ctx.settings.warmup, runs: ctx.settings.runs },
      ctx.log,
    );
    ctx.log(
      `memory: ${ctx.settings.loadConnections} clients for ${ctx.settings.loadSeconds}s${ctx.settings.heapSnapshot ? ' (heap snapshot half-way)' : ''}`,
    );
    const memory = await memoryUnderLoad(ctx.server.origin, userAuthorization, admin, {
      connections: ctx.settings.loadConnections,
      seconds: ctx.settings.loadSeconds,
      serverPid: ctx.server.pid,
      snapshot: ctx.settings.heapSnapshot,
    });
    let twoInstances: TwoInstances | undefined;
    if (ctx.database === 'postgres') {
      ctx.log(
        `two instances on one database: 16 clients on one, then 8 + 8 on two, ${ctx.settings.throughputSeconds}s each`,
      );
      const second = await startServer(ctx.serverEnv);
      servers.push(second);
      twoInstances = await measureTwoInstances(
        ctx.server.origin,
        second.origin,
        userAuthorization,
        ctx.settings.throughputSeconds,
      );
    }
    return {
      database: ctx.database,
      twoInstances,
      when: new Date().toISOString(),
      loadAverage: { start, end: loadAverage() },
      apis,
      memory,
      peakRssMiB: {
        server: ctx.server.peakRssMiB(),
        metricsServer: ab.server.peakRssMiB(),
        target: '≤ 160',
      },
      startup: readStartup(ctx.settings.resultsDir),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((x) => x.stop()));
    for (const db of dbs) await db.drop();
  }
}
