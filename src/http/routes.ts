// Owns mounting the route table on Express: one handler per operation, plus 404/405 for the rest.
import type { Express, NextFunction, Request, Response } from 'express';
import { invoke, type CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import { expressPath, type OpContext, type OpResult, type Services } from '../api/operation';
import { IdReservations } from '../db/ids';
import { inTransaction } from '../db/transaction';
import { errors } from '../errors';
import { bodyBuffer, jsonBody } from './body';

export function sendResult(res: Response, result: OpResult): void {
  res.status(result.status);
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
  if (result.raw) {
    res.type(result.raw.contentType).send(result.raw.body);
  } else if (result.body === undefined || result.status === 204) {
    res.end();
  } else {
    res.json(result.body);
  }
}

function handlerFor(c: CompiledOp, services: Services) {
  return async (req: Request, res: Response) => {
    const caller = req.caller as NonNullable<Request['caller']>;
    const raw = {
      params: req.params as Record<string, string>,
      query: { ...(req.query as Record<string, unknown>) },
      body: c.op.rawBody ? undefined : jsonBody(req),
      headers: req.headers as Record<string, string | undefined>,
      rawBody: c.op.rawBody ? bodyBuffer(req) ?? Buffer.alloc(0) : undefined,
    };
    const ctx = (db: OpContext['db']): OpContext => ({ db, caller, services, reservations: new IdReservations(), inComposite: false, requestId: req.id });
    const result = c.op.transactional
      ? await inTransaction(services.knex, async (trx) => invoke(c, ctx(trx), raw), { retries: services.config.db.retryLimit })
      : await invoke(c, ctx(services.knex), raw);
    sendResult(res, result);
  };
}

export function mountOperations(app: Express, ops: CompiledOp[], services: Services): void {
  for (const c of ops) app[c.op.method](expressPath(c.op), handlerFor(c, services));
}

/** After every route: a known path with another method is 405 (with Allow); anything else 404. */
export function notFoundOrMethodNotAllowed(ops: CompiledOp[]) {
  const matcher = new PathMatcher(ops);
  return (req: Request, _res: Response, next: NextFunction) => {
    const path = req.path.startsWith('/rest/') ? req.path.slice('/rest'.length) : undefined;
    const allowed = path ? [...new Set(matcher.match(path).map((m) => m.entry.op.method.toUpperCase()))] : [];
    if (allowed.length > 0) return next(errors.methodNotAllowed(req.method, req.path, allowed));
    next(errors.notFound(`No resource at ${req.path}`));
  };
}
