// Owns routing requests to the route table's operations, plus 404/405 for the rest.
import type { NextFunction, Request, Response } from 'express';
import type { CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import type { Logger } from 'pino';
import type { OpResult } from '../api/operation';
import type { DurableRequests } from '../durable/requests';
import { refuseNul } from '../api/nul';
import { requestOptions } from '../api/requestOptions';
import { errors } from '../errors';
import { resolveOperation } from '../api/resolve';
import { bodyBuffer, jsonBody } from './body';
import { sendJson } from './json';

export function sendResult(res: Response, result: OpResult): void {
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
  if (result.raw) {
    res.status(result.status).type(result.raw.contentType).send(result.raw.body);
  } else if (result.body === undefined || result.status === 204) {
    res.status(result.status).end();
  } else {
    sendJson(res, result.status, result.body);
  }
}

function handlerFor(c: CompiledOp, durable: DurableRequests, logger: Logger) {
  return async (req: Request, res: Response) => {
    const caller = req.caller as NonNullable<Request['caller']>;
    const raw = {
      params: req.params as Record<string, string>,
      query: { ...(req.query as Record<string, unknown>) },
      body: c.op.rawBody ? undefined : jsonBody(req),
      headers: req.headers as Record<string, string | undefined>,
      rawBody: c.op.rawBody ? (bodyBuffer(req) ?? Buffer.alloc(0)) : undefined,
    };
    const { dryRun, unknown } = requestOptions(req.headers);
    try {
      // As if sent alone — or durably, with Idempotency-Key or Prefer: respond-async.
      const meta = { method: req.method, uri: req.originalUrl, body: bodyBuffer(req), requestId: req.id };
      sendResult(res, await durable.call(c, caller, raw, meta, { dryRun, unknown }));
    } finally {
      unknown.flush(logger, req.id);
    }
  };
}

/**
 * Routes requests under /rest to their operations with the matcher the composite planner uses, so a
 * direct call and a subrequest agree on which operation a path is (exact segments, case-sensitive,
 * no trailing-slash aliases): one rule instead of Express routes beside it that had to agree. A
 * known path with another method is 405 (with Allow); any other path is 404. HEAD is answered as GET.
 */
export function operationRouter(ops: CompiledOp[], durable: DurableRequests, logger: Logger) {
  const matcher = new PathMatcher(ops.map((c) => ({ op: c.op, handle: handlerFor(c, durable, logger) })));
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      const hit = resolveOperation(matcher, req.method, req.path, `${req.baseUrl}${req.path}`);
      refuseNul(hit.params, 'path');
      refuseNul(req.query, 'query');
      req.params = hit.params;
      // The request's label in the metrics: the operation id, never the path with its ids.
      res.locals.operation = hit.entry.op.operationId;
      hit.entry.handle(req, res).catch(next);
    } catch (err) {
      next(err);
    }
  };
}

/** Outside /rest: nothing but the routes mounted before (health, OpenAPI) answers. */
export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(errors.notFound(`No resource at ${req.path}`));
}
