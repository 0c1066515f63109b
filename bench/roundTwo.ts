// Owns running the second round (issue 21) inside `npm run bench`: a second server with metrics switched
// off (bench/metricsOff.ts preloaded) on a database of its own loaded like the main one (SQLite allows
// one server per file), the repeated new-API measurements, then the memory run under 64 clients;
// returns everything bench/roundTwoReport.ts prints and writes.
import path from 'node:path';
import { ApiClient } from './apiClient';
import { memoryUnderLoad } from './memory';
import { measureNewApis } from './newApis';
import { loadAverage, readStartup, type RoundTwo } from './roundTwoReport';
import { startServer, type ServerUnderTest } from './server';
import { basicAuth } from './client';
import { freshDatabase, type FreshDatabase } from './database';
import { bulkLoadActivities } from './workloads';

export interface RoundTwoContext {
  database: RoundTwo['database'];
  server: ServerUnderTest;
  /** The environment the main server was started with (database, admin, log level). */
  serverEnv: Record<string, string>;
  httpFloorOrigin: string;
  user: { username: string; password: string };
  adminAuthorization: string;
  settings: { selectionRows: number; warmup: number; runs: number; loadConnections: number; loadSeconds: number; heapSnapshot: boolean; resultsDir: string };
  log: (msg: string) => void;
}

/** Node options for the main server when a heap snapshot is wanted (BENCH_HEAP_SNAPSHOT=<dir>). */
export function heapSnapshotArgs(dir: string | undefined): string[] {
  return dir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${path.resolve(dir)}`] : [];
}

export async function runRoundTwo(ctx: RoundTwoContext): Promise<RoundTwo> {
  const start = loadAverage();
  const preload = path.join(__dirname, 'metricsOff.js');
  ctx.log('starting a second server on the same database with metrics switched off');
  let off: ServerUnderTest | undefined;
  let offDb: FreshDatabase | undefined;
  const clients: ApiClient[] = [];
  const client = (origin: string, auth: string) => {
    const c = new ApiClient(origin, auth);
    clients.push(c);
    return c;
  };
  try {
    offDb = await freshDatabase(ctx.serverEnv.DATABASE_URL.startsWith('sqlite') ? undefined : process.env.DATABASE_URL);
    off = await startServer({ ...ctx.serverEnv, DATABASE_URL: offDb.url }, ['--require', preload]);
    const userAuthorization = basicAuth(ctx.user.username, ctx.user.password);
    const offAdmin = client(off.origin, ctx.adminAuthorization);
    await offAdmin.send('POST', '/rest/admin/v1/users', JSON.stringify({ data: { attributes: { ...ctx.user, roles: ['user'] } } }));
    const driver = await offDb.connect();
    try {
      await bulkLoadActivities(driver, ctx.settings.selectionRows);
    } finally {
      await driver.close();
    }
    const admin = client(ctx.server.origin, ctx.adminAuthorization);
    const apis = await measureNewApis(
      { main: client(ctx.server.origin, userAuthorization), metricsOff: client(off.origin, userAuthorization), floor: client(ctx.httpFloorOrigin, userAuthorization), admin },
      { warmup: ctx.settings.warmup, runs: ctx.settings.runs },
      ctx.log,
    );
    ctx.log(`memory: ${ctx.settings.loadConnections} clients for ${ctx.settings.loadSeconds}s${ctx.settings.heapSnapshot ? ' (heap snapshot half-way)' : ''}`);
    const memory = await memoryUnderLoad(ctx.server.origin, userAuthorization, admin, {
      connections: ctx.settings.loadConnections,
      seconds: ctx.settings.loadSeconds,
      snapshotPid: ctx.settings.heapSnapshot ? ctx.server.pid : undefined,
    });
    return {
      database: ctx.database,
      when: new Date().toISOString(),
      loadAverage: { start, end: loadAverage() },
      apis,
      memory,
      peakRssMiB: { server: ctx.server.peakRssMiB(), metricsOffServer: off.peakRssMiB(), target: '≤ 160' },
      startup: readStartup(ctx.settings.resultsDir),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await off?.stop();
    await offDb?.drop();
  }
}
