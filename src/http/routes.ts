// Owns routing requests to the route table's operations, plus 404/405 for the rest.
import type { NextFunction, Request, Response } from 'express';
import type { CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import type { OpResult, Services } from '../api/operation';
import { errors } from '../errors';
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
    // As if sent alone — or durably, with Idempotency-Key or Prefer: respond-async.
    const result = await services.durable.call(c, caller, raw, { method: req.method, uri: req.originalUrl, body: bodyBuffer(req), requestId: req.id });
    sendResult(res, result);
  };
}

/**
 * Routes requests under /rest to their operations with the matcher the composite planner uses, so a
 * direct call and a subrequest agree on which operation a path is (exact segments, case-sensitive,
 * no trailing-slash aliases): one rule instead of Express routes beside it that had to agree. A
 * known path with another method is 405 (with Allow); any other path is 404. HEAD is answered as GET.
 */
export function operationRouter(ops: CompiledOp[], services: Services) {
  const matcher = new PathMatcher(ops.map((c) => ({ op: c.op, handle: handlerFor(c, services) })));
  return (req: Request, res: Response, next: NextFunction) => {
    const found = matcher.match(req.path);
    const method = req.method === 'HEAD' ? 'get' : req.method.toLowerCase();
    const hit = found.find((m) => m.entry.op.method === method);
    if (!hit) {
      const where = `${req.baseUrl}${req.path}`;
      if (found.length === 0) return next(errors.notFound(`No resource at ${where}`));
      return next(errors.methodNotAllowed(req.method, where, [...new Set(found.map((m) => m.entry.op.method.toUpperCase()))]));
    }
    const params: Record<string, string> = {};
    try {
      for (const name of Object.keys(hit.params)) params[name] = decodeURIComponent(hit.params[name]);
    } catch {
      return next(errors.badInput('The request path holds a malformed percent-encoding'));
    }
    req.params = params;
    hit.entry.handle(req, res).catch(next);
  };
}

/** Outside /rest: nothing but the routes mounted before (health, OpenAPI) answers. */
export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(errors.notFound(`No resource at ${req.path}`));
}
