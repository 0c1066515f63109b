// Builds the Express app from configuration and a database handle — no listening, no globals.
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { CompiledOp } from './api/dispatch';
import type { ApiName, Services } from './api/operation';
import type { DurableRequests } from './durable/requests';
import { buildRouteTable, type OperationSource } from './routeTable';
import { credentialChecks } from './auth/checks';
import { buildOpenApi } from './openapi/build';
import { authenticate } from './http/authenticate';
import { liveness, Readiness, readinessCheck } from './http/health';
import { securityMiddleware } from './http/security';
import { docsRouter } from './http/docs';
import { rawBody } from './http/body';
import { errorHandler } from './http/errorHandler';
import { requestLog } from './http/requestLog';
import { AppMetrics, countAs } from './http/metrics';
import { corsPolicy } from './http/cors';
import { notFound, operationRouter } from './http/router';
import { sendJson } from './http/json';
import { errors } from './errors';
import { attachObserver } from './observe';

export interface AppOptions {
  config: Config;
  knex: Knex;
  logger: Logger;
  /** More operations for the route table (connectors). */
  extraOperations?: OperationSource;
}

export interface App {
  app: Express;
  services: Services;
  durable: DurableRequests;
  operations: CompiledOp[];
}

const APIS: ApiName[] = ['common', 'admin', 'composite', 'connectors', 'async'];

export function createApp(opts: AppOptions): App {
  // First: the features built below find the observer by the database handle as they are built.
  const readiness = new Readiness(opts.knex, opts.config.database);
  const metrics = new AppMetrics(opts.knex, readiness);
  attachObserver(opts.knex, metrics);
  const { services, durable, operations: ops, compiled } = buildRouteTable(opts);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Paths match exactly, as the composite planner matches them: /rest/Common/… is not /rest/common/….
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  // req.ip, which the failed-authentication limit counts by: the socket's address unless the proxy in
  // front is trusted to say who the client is (TRUST_PROXY).
  if (opts.config.trustProxy !== undefined) app.set('trust proxy', opts.config.trustProxy);
  app.use(securityMiddleware());
  // Probes come every few seconds from a balancer: mounted before the request log, never logged.
  app.get('/healthz', liveness());
  app.get('/readyz', readinessCheck(readiness));
  // One timing per request, for its log line and its metrics.
  app.use(requestLog(opts.logger, (req, res, seconds) => metrics.request(req, res, seconds)));
  app.use(corsPolicy(opts.config.corsOrigins));

  const auth = authenticate(credentialChecks(services, opts.knex), opts.config);
  app.get('/metrics', ...metrics.endpoint(auth, opts.config.metricsPublic));

  const documents = new Map<string, unknown>();
  const openapi = (api?: ApiName) => {
    const key = api ?? 'all';
    if (!documents.has(key)) documents.set(key, buildOpenApi(ops, api));
    return documents.get(key);
  };
  app.get('/openapi.json', countAs('openapi'), auth, (_req, res) => sendJson(res, 200, openapi()));
  app.get('/rest/:api/v1/openapi.json', countAs('openapi'), auth, (req, res, next) => {
    const api = req.params.api as ApiName;
    if (!APIS.includes(api)) return next(errors.notFound(`No API named ${api}`));
    sendJson(res, 200, openapi(api));
  });

  app.use(
    '/docs',
    docsRouter(opts.config, auth, () => openapi()),
  );

  app.use(
    '/rest',
    auth,
    rawBody(opts.config.bodyLimitBytes, opts.config.requestTimeoutMs),
    operationRouter(compiled, durable, opts.logger),
  );
  app.use(notFound);
  app.use(errorHandler(opts.logger, opts.config.bodyLimitBytes));
  return { app, services, durable, operations: compiled };
}
