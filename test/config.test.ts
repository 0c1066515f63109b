// Configuration (SPEC §1): loadConfig's defaults and its clear refusal of bad values; the migrate CLI and
// the server entry run as real processes (TypeScript transpiled on load); GET /healthz without credentials.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { ConfigError, loadConfig } from '../src/config';
import { MIGRATIONS } from '../src/schema/migrate';
import { startTestApp, tempSqliteUrl } from './helpers/testApp';

const ROOT = path.resolve(__dirname, '..');

/** Runs a TypeScript entry point in a fresh Node process, transpiling .ts files as they load. */
function runTs(entry: string, env: Record<string, string>) {
  const hook = `
    const ts = require('typescript'); const fs = require('fs');
    require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'),
      { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file }).outputText, file);
    require(process.argv[1]);`;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-cli-'));
  const { PATH, HOME } = process.env;
  const res = spawnSync(process.execPath, ['-e', hook, path.join(ROOT, entry)], {
    cwd,
    env: { PATH, HOME, NODE_PATH: path.join(ROOT, 'node_modules'), ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  fs.rmSync(cwd, { recursive: true, force: true });
  return res;
}

describe('loadConfig', () => {
  it('has the SPEC §1 defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      compositeMaxSubrequests: 100,
      compositeMaxExpansion: 16,
      adminUsername: 'admin',
      adminPassword: undefined,
      idPrefix: 'xc',
      logLevel: 'info',
      logFormat: 'json',
      shutdownTimeoutMs: 10000,
      connectorsRegistry: undefined,
      connectorsAllowedHosts: [],
      connectorTimeoutMs: 15000,
      connectorTemplateMaxChars: 16777216,
      jwt: undefined,
      bodyLimitBytes: 1048576,
      requestTimeoutMs: 30000,
      authFailureLimit: { max: 10, windowMs: 60000 },
      db: { poolMax: 10, statementTimeoutMs: 30000, connectTimeoutMs: 5000, retryLimit: 5 },
      docsPublic: false,
      durable: { idempotencyTtlHours: 24, asyncConcurrency: 2, asyncRetentionDays: 7 },
    });
    expect(c.database).toEqual({ kind: 'sqlite', filename: path.resolve('./data/composite.db'), createFolder: true });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '9090',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db.example:5432/app',
      COMPOSITE_MAX_SUBREQUESTS: '7',
      COMPOSITE_MAX_EXPANSION: '40',
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'long-password',
      ID_PREFIX: 'ab_1',
      CONNECTORS_REGISTRY: '/etc/reg.json',
      CONNECTOR_SECRETS_FILE: '/etc/secrets.json',
      CONNECTORS_ALLOWED_HOSTS: ' Localhost:8443, 127.0.0.1 ,,',
      CONNECTOR_TIMEOUT_MS: '250',
      CONNECTOR_TEMPLATE_MAX_CHARS: '65536',
      JWT_JWKS_URL: 'https://idp.example/jwks',
      JWT_ISSUER: 'iss',
      JWT_AUDIENCE: 'aud',
      LOG_LEVEL: 'warn',
      BODY_LIMIT_BYTES: '2048',
      REQUEST_TIMEOUT_MS: '1000',
      AUTH_FAILURE_LIMIT: '3',
      AUTH_FAILURE_WINDOW_MS: '5000',
      DB_POOL_MAX: '4',
      DB_STATEMENT_TIMEOUT_MS: '0',
      DB_CONNECT_TIMEOUT_MS: '200',
      DB_RETRY_LIMIT: '0',
      TRUST_PROXY: ' loopback, 10.0.0.0/8 ,fd00::1 ',
      DOCS_PUBLIC: 'true',
      LOG_FORMAT: 'pretty',
      SHUTDOWN_TIMEOUT_MS: '0',
      IDEMPOTENCY_TTL_HOURS: '48',
      ASYNC_CONCURRENCY: '5',
      ASYNC_RETENTION_DAYS: '30',
    });
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 9090,
      database: { kind: 'postgres', url: 'postgres://u:p@db.example:5432/app' },
      compositeMaxSubrequests: 7,
      compositeMaxExpansion: 40,
      adminUsername: 'root',
      adminPassword: 'long-password',
      idPrefix: 'ab_1',
      connectorsRegistry: '/etc/reg.json',
      connectorSecretsFile: '/etc/secrets.json',
      connectorsAllowedHosts: ['localhost:8443', '127.0.0.1'],
      connectorTimeoutMs: 250,
      connectorTemplateMaxChars: 65536,
      jwt: { jwksUrl: 'https://idp.example/jwks', issuer: 'iss', audience: 'aud' },
      logLevel: 'warn',
      logFormat: 'pretty',
      shutdownTimeoutMs: 0,
      bodyLimitBytes: 2048,
      requestTimeoutMs: 1000,
      authFailureLimit: { max: 3, windowMs: 5000 },
      trustProxy: ['loopback', '10.0.0.0/8', 'fd00::1'],
      db: { poolMax: 4, statementTimeoutMs: 0, connectTimeoutMs: 200, retryLimit: 0 },
      docsPublic: true,
      durable: { idempotencyTtlHours: 48, asyncConcurrency: 5, asyncRetentionDays: 30 },
    });
    expect([loadConfig({ DOCS_PUBLIC: 'false' }).docsPublic, loadConfig({ DOCS_PUBLIC: ' TRUE ' }).docsPublic]).toEqual(
      [false, true],
    );
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({}).trustProxy).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ kind: 'sqlite', filename: ':memory:' });
    expect(loadConfig({ DATABASE_URL: 'postgresql://localhost/x' }).database.kind).toBe('postgres');
  });

  it('refuses a bad value with a ConfigError naming the variable', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT must be a whole number, got "eighty"/],
      [{ PORT: '70000' }, /PORT must be between 0 and 65535, got 70000/],
      [{ PORT: '-1' }, /PORT/],
      [{ COMPOSITE_MAX_EXPANSION: '0' }, /COMPOSITE_MAX_EXPANSION must be between 1 and 1000, got 0/],
      [{ DATABASE_URL: 'mysql://localhost/db' }, /DATABASE_URL must start with sqlite: or postgres:\/\//],
      [{ DATABASE_URL: 'sqlite:' }, /DATABASE_URL sqlite:<path> needs a path/],
      [{ DATABASE_URL: 'postgres://user:pa ss@[bad' }, /DATABASE_URL is not a valid postgres:\/\/ URL/],
      [{ COMPOSITE_MAX_SUBREQUESTS: '0' }, /COMPOSITE_MAX_SUBREQUESTS must be between 1/],
      [{ COMPOSITE_MAX_SUBREQUESTS: '1.5' }, /COMPOSITE_MAX_SUBREQUESTS must be a whole number/],
      [{ ID_PREFIX: 'XC' }, /ID_PREFIX/],
      [{ ID_PREFIX: 'x:c' }, /ID_PREFIX/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
      [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT must be one of json, pretty, got "xml"/],
      [{ SHUTDOWN_TIMEOUT_MS: 'later' }, /SHUTDOWN_TIMEOUT_MS must be a whole number/],
      [{ SHUTDOWN_TIMEOUT_MS: '600001' }, /SHUTDOWN_TIMEOUT_MS must be between 0 and 600000/],
      [{ ADMIN_USERNAME: 'has space' }, /ADMIN_USERNAME/],
      [{ ADMIN_PASSWORD: 'short' }, /ADMIN_PASSWORD must be at least 8 characters/],
      [{ JWT_JWKS_URL: 'not a url' }, /JWT_JWKS_URL is not a valid URL/],
      [{ CONNECTOR_TIMEOUT_MS: '0' }, /CONNECTOR_TIMEOUT_MS/],
      [{ CONNECTOR_TEMPLATE_MAX_CHARS: '100' }, /CONNECTOR_TEMPLATE_MAX_CHARS must be between 1024/],
      [{ BODY_LIMIT_BYTES: '10' }, /BODY_LIMIT_BYTES must be between 1024/],
      [{ REQUEST_TIMEOUT_MS: 'soon' }, /REQUEST_TIMEOUT_MS/],
      [{ AUTH_FAILURE_LIMIT: '0' }, /AUTH_FAILURE_LIMIT/],
      [{ AUTH_FAILURE_WINDOW_MS: '10' }, /AUTH_FAILURE_WINDOW_MS/],
      [{ DB_POOL_MAX: '0' }, /DB_POOL_MAX/],
      [{ DB_STATEMENT_TIMEOUT_MS: 'x' }, /DB_STATEMENT_TIMEOUT_MS/],
      [{ DB_CONNECT_TIMEOUT_MS: '1' }, /DB_CONNECT_TIMEOUT_MS/],
      [{ DB_RETRY_LIMIT: '101' }, /DB_RETRY_LIMIT/],
      [{ IDEMPOTENCY_TTL_HOURS: '0' }, /IDEMPOTENCY_TTL_HOURS must be between 1/],
      [{ ASYNC_CONCURRENCY: '0' }, /ASYNC_CONCURRENCY must be between 1 and 64/],
      [{ ASYNC_RETENTION_DAYS: 'week' }, /ASYNC_RETENTION_DAYS must be a whole number/],
      // Trusting every address would let any client name its own; shorthand addresses Express refuses at start.
      [{ TRUST_PROXY: 'true' }, /TRUST_PROXY must be a number of hops \(1–10\) or a comma list .*got "true"/],
      [{ TRUST_PROXY: '*' }, /TRUST_PROXY/],
      [{ DOCS_PUBLIC: 'yes' }, /DOCS_PUBLIC must be true or false, got "yes"/],
      [{ TRUST_PROXY: '0' }, /TRUST_PROXY must be between 1 and 10/],
      [{ TRUST_PROXY: 'loopback,10.1' }, /TRUST_PROXY .*got "10.1"/],
      [{ TRUST_PROXY: '10.0.0.0/33' }, /TRUST_PROXY/],
    ];
    for (const [env, message] of bad) {
      let caught: unknown;
      try {
        loadConfig(env);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect(`${JSON.stringify(env)}: ${(caught as Error).message}`).toMatch(message);
    }
    // a password in a bad DATABASE_URL is not repeated in the message
    try {
      loadConfig({ DATABASE_URL: 'postgres://user:hunter22@[bad' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter22');
    }
  });
});

describe('processes', () => {
  it('the migrate CLI creates the schema, is idempotent, and reports a bad DATABASE_URL', () => {
    const url = tempSqliteUrl();
    const first = runTs('src/cli/migrate.ts', { DATABASE_URL: url });
    expect({ status: first.status, stdout: first.stdout, stderr: first.stderr }).toMatchObject({
      status: 0,
      stdout: 'migrations are up to date\n',
    });
    const again = runTs('src/cli/migrate.ts', { DATABASE_URL: url });
    expect(again.status).toBe(0);
    const failed = runTs('src/cli/migrate.ts', { DATABASE_URL: 'mysql://nowhere/db' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('migration failed: DATABASE_URL must start with sqlite: or postgres://');
    return (async () => {
      const knex = knexFactory({
        client: 'better-sqlite3',
        connection: { filename: url.slice('sqlite:'.length) },
        useNullAsDefault: true,
      });
      try {
        const tables = (await knex.raw("select name from sqlite_master where type = 'table'")).map(
          (r: { name: string }) => r.name,
        );
        expect(tables).toEqual(expect.arrayContaining(['users', 'activities', 'notes', 'knex_migrations']));
        expect(await knex('knex_migrations').count({ n: '*' })).toEqual([{ n: MIGRATIONS.length }]);
        expect(await knex('users').count({ n: '*' })).toEqual([{ n: 0 }]);
      } finally {
        await knex.destroy();
        fs.rmSync(path.dirname(url.slice('sqlite:'.length)), { recursive: true, force: true });
      }
    })();
  });

  it('the server refuses to start on a bad value, saying which', () => {
    const res = runTs('src/server.ts', { PORT: 'eighty', DATABASE_URL: tempSqliteUrl() });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('configuration error: PORT must be a whole number, got "eighty"');
  });
});

describe('loadConfig: metrics and CORS', () => {
  it('METRICS_PUBLIC is false unless set to true, and refuses anything but true or false', () => {
    expect(loadConfig({}).metricsPublic).toBe(false);
    expect(loadConfig({ METRICS_PUBLIC: 'true' }).metricsPublic).toBe(true);
    expect(loadConfig({ METRICS_PUBLIC: 'false' }).metricsPublic).toBe(false);
    for (const bad of ['yes', '1', 'TRUE'])
      expect(() => loadConfig({ METRICS_PUBLIC: bad })).toThrow(`METRICS_PUBLIC must be true or false, got "${bad}"`);
  });

  it('CORS_ORIGINS is none by default and takes a comma list of origins', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: ' https://app.example.com, http://localhost:5173 ,' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it('CORS_ORIGINS refuses what a browser would never send as its Origin, naming it', () => {
    for (const bad of [
      '*',
      'null',
      'app.example.com',
      'https://app.example.com/',
      'https://app.example.com/path',
      'https://APP.example.com',
      'https://app.example.com:443',
      'ftp://app.example.com',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: `https://ok.example.com,${bad}` })).toThrow(
        `CORS_ORIGINS must be a comma list of origins like https://app.example.com (scheme, host and port only), got "${bad}"`,
      );
    }
  });
});

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} without credentials once migrations are done', async () => {
    const t = await startTestApp();
    try {
      const res = await t.http.get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    } finally {
      await t.close();
    }
  });
});
