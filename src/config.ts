// Owns the server's configuration: read from the environment once, validated, and frozen.
import { corsOrigins, trustProxy } from './config/corsAndProxy';
import { parseDatabaseUrl, type DatabaseConfig } from './config/database';
import { boolean, ConfigError, flag, integer, type Env } from './config/values';

export { ConfigError, parseDatabaseUrl, type DatabaseConfig };

export interface Config {
  host: string;
  port: number;
  database: DatabaseConfig;
  compositeMaxSubrequests: number;
  batchMaxSubrequests: number;
  /** How many times its own size a composite may build by rendering its variables (at least 64 KiB × this). */
  compositeMaxExpansion: number;
  adminUsername: string;
  adminPassword: string | undefined;
  idPrefix: string;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  logLevel: string;
  /** `json` (one JSON object a line) or `pretty` (pino-pretty, for a person at a terminal). */
  logFormat: 'json' | 'pretty';
  /** How long a stop (SIGTERM, SIGINT) waits for requests in flight before closing their connections. */
  shutdownTimeoutMs: number;
  connectorsRegistry: string | undefined;
  connectorSecretsFile: string | undefined;
  connectorsAllowedHosts: string[];
  connectorTimeoutMs: number;
  /** The longest value one connector template may render (characters). */
  connectorTemplateMaxChars: number;
  jwt: { jwksUrl: string; issuer: string | undefined; audience: string | undefined } | undefined;
  authFailureLimit: { max: number; windowMs: number };
  /**
   * Which proxies in front may say who the client is (X-Forwarded-For): their addresses and subnets,
   * or how many hops to believe; undefined believes none (Express's 'trust proxy').
   */
  trustProxy: string[] | number | undefined;
  db: { poolMax: number; statementTimeoutMs: number; connectTimeoutMs: number; retryLimit: number };
  /** GET /metrics without authentication (METRICS_PUBLIC=true); otherwise admins only. */
  metricsPublic: boolean;
  /** Browser origins allowed to call the API (CORS_ORIGINS), exactly as a browser sends them. */
  corsOrigins: string[];
  /** /docs (the API reference) without credentials; otherwise it needs them as /openapi.json does. */
  docsPublic: boolean;
  /** Idempotency-Key answers are kept this long; asynchronous requests run this many at once and are kept this long. */
  durable: { idempotencyTtlHours: number; asyncConcurrency: number; asyncRetentionDays: number };
}

/** The database settings when the environment says nothing (DB_POOL_MAX …); tools that open a database without a config use them too. */
export const DB_DEFAULTS: Config['db'] = {
  poolMax: 10,
  statementTimeoutMs: 30000,
  connectTimeoutMs: 5000,
  retryLimit: 5,
};

const DEFAULT_DATABASE = 'sqlite:./data/composite.db';
const LOG_FORMATS = ['json', 'pretty'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST || '127.0.0.1';
  const idPrefix = env.ID_PREFIX || 'xc';
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(idPrefix)) {
    throw new ConfigError(
      `ID_PREFIX must be 1–16 lower-case letters, digits or _, starting with a letter, got "${idPrefix}"`,
    );
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = (env.LOG_FORMAT || 'json') as Config['logFormat'];
  if (!LOG_FORMATS.includes(logFormat))
    throw new ConfigError(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got "${logFormat}"`);
  const adminUsername = env.ADMIN_USERNAME || 'admin';
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(adminUsername))
    throw new ConfigError('ADMIN_USERNAME must be 1–64 of A-Z a-z 0-9 _ . @ -');
  const adminPassword = env.ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && adminPassword.length < 8)
    throw new ConfigError('ADMIN_PASSWORD must be at least 8 characters');
  let jwt: Config['jwt'];
  if (env.JWT_JWKS_URL) {
    try {
      new URL(env.JWT_JWKS_URL);
    } catch {
      throw new ConfigError('JWT_JWKS_URL is not a valid URL');
    }
    jwt = { jwksUrl: env.JWT_JWKS_URL, issuer: env.JWT_ISSUER || undefined, audience: env.JWT_AUDIENCE || undefined };
  }
  return Object.freeze({
    host,
    port: integer(env, 'PORT', 8080, 0, 65535),
    database: env.DATABASE_URL
      ? parseDatabaseUrl(env.DATABASE_URL)
      : { ...parseDatabaseUrl(DEFAULT_DATABASE), createFolder: true },
    compositeMaxSubrequests: integer(env, 'COMPOSITE_MAX_SUBREQUESTS', 100, 1, 10000),
    batchMaxSubrequests: integer(env, 'BATCH_MAX_SUBREQUESTS', 100, 1, 10000),
    compositeMaxExpansion: integer(env, 'COMPOSITE_MAX_EXPANSION', 16, 1, 1000),
    adminUsername,
    adminPassword,
    idPrefix,
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30000, 100, 600000),
    logLevel,
    logFormat,
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    connectorsRegistry: env.CONNECTORS_REGISTRY || undefined,
    connectorSecretsFile: env.CONNECTOR_SECRETS_FILE || undefined,
    connectorsAllowedHosts: (env.CONNECTORS_ALLOWED_HOSTS || '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    connectorTimeoutMs: integer(env, 'CONNECTOR_TIMEOUT_MS', 15000, 1, 600000),
    // Above the 10 MiB response cap, so a response_body template can pass a whole response on.
    connectorTemplateMaxChars: integer(env, 'CONNECTOR_TEMPLATE_MAX_CHARS', 16 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    jwt,
    authFailureLimit: {
      max: integer(env, 'AUTH_FAILURE_LIMIT', 10, 1, 100000),
      windowMs: integer(env, 'AUTH_FAILURE_WINDOW_MS', 60000, 1000, 86400000),
    },
    trustProxy: trustProxy(env.TRUST_PROXY),
    db: {
      poolMax: integer(env, 'DB_POOL_MAX', DB_DEFAULTS.poolMax, 1, 1000),
      statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', DB_DEFAULTS.statementTimeoutMs, 0, 3600000),
      connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', DB_DEFAULTS.connectTimeoutMs, 100, 600000),
      retryLimit: integer(env, 'DB_RETRY_LIMIT', DB_DEFAULTS.retryLimit, 0, 100),
    },
    metricsPublic: boolean(env, 'METRICS_PUBLIC', false),
    corsOrigins: corsOrigins(env.CORS_ORIGINS),
    docsPublic: flag(env, 'DOCS_PUBLIC'),
    durable: {
      idempotencyTtlHours: integer(env, 'IDEMPOTENCY_TTL_HOURS', 24, 1, 24 * 366),
      asyncConcurrency: integer(env, 'ASYNC_CONCURRENCY', 2, 1, 64),
      asyncRetentionDays: integer(env, 'ASYNC_RETENTION_DAYS', 7, 1, 3660),
    },
  });
}
