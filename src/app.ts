// Builds the Express app from configuration and a database handle — no listening, no globals.
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from './config';
import { compileOperations, type CompiledOp } from './api/dispatch';
import type { ApiName, Operation, Services } from './api/operation';
import { credentialChecks } from './auth/checks';
import { resourceOperations } from './resources';
import { idCodec } from './resources/ids';
import { compositeOperation } from './composite/operation';
import { asyncOperations } from './durable/api';
import { DurableRequests } from './durable/requests';
import { buildOpenApi } from './openapi/build';
import { authenticate } from './http/authenticate';
import { healthCheck } from './http/health';
import { securityMiddleware } from './http/security';
import { rawBody } from './http/body';
import { errorHandler } from './http/errorHandler';
import { requestLog } from './http/requestLog';
import { notFound, operationRouter } from './http/routes';
import { sendJson } from './http/json';
import { errors } from './errors';

export interface AppOptions {
  config: Config;
  knex: Knex;
  logger: Logger;
  /** More operations for the route table (connectors). */
  extraOperations?: (services: Services) => Operation[];
}

export interface App {
  app: Express;
  services: Services;
  operations: CompiledOp[];
}

const APIS: ApiName[] = ['common', 'admin', 'composite', 'connectors', 'async'];

export function createApp(opts: AppOptions): App {
  let compiled: CompiledOp[] = [];
  const services = { config: opts.config, knex: opts.knex, ids: idCodec(opts.config.idPrefix), logger: opts.logger } as Services;
  // The worker runs accepted requests through the route table; extensions start and stop it.
  services.durable = new DurableRequests(services, () => compiled);
  const ops: Operation[] = [...resourceOperations, ...(opts.extraOperations ? opts.extraOperations(services) : [])];
  ops.push(compositeOperation(() => compiled), ...asyncOperations(services.durable));
  compiled = compileOperations(ops);

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
  app.use(requestLog(opts.logger));

  app.use(securityMiddleware(opts.config));
  app.get('/healthz', healthCheck(opts.knex));

  const auth = authenticate(credentialChecks(services), opts.config);

  const documents = new Map<string, unknown>();
  const openapi = (api?: ApiName) => {
    const key = api ?? 'all';
    if (!documents.has(key)) documents.set(key, buildOpenApi(ops, api));
    return documents.get(key);
  };
  app.get('/openapi.json', auth, (_req, res) => sendJson(res, 200, openapi()));
  app.get('/rest/:api/v1/openapi.json', auth, (req, res, next) => {
    const api = req.params.api as ApiName;
    if (!APIS.includes(api)) return next(errors.notFound(`No API named ${api}`));
    sendJson(res, 200, openapi(api));
  });

  app.use('/rest', auth, rawBody(opts.config.bodyLimitBytes, opts.config.requestTimeoutMs), operationRouter(compiled, services));
  app.use(notFound);
  app.use(errorHandler(opts.logger, opts.config.bodyLimitBytes));
  return { app, services, operations: compiled };
}
