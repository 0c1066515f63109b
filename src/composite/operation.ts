// Owns POST /rest/composite/v1/composite as an operation of the route table: parse → plan → execute → respond.
import type { CompiledOp } from '../api/dispatch';
import { REQUEST_HEADERS } from '../api/headers';
import { PathMatcher } from '../api/match';
import { READERS, type Operation } from '../api/operation';
import { errors } from '../errors';
import { observerOf } from '../observe';
import { alreadyExecuted, executeComposite } from './execute';
import { CompositeBody } from './parse';
import { planComposite } from './plan';
import { respond } from './respond';
import { CompositeBadRequestSchema, CompositeResponseSchema } from './schemas';

export function compositeOperation(routeTable: () => CompiledOp[]): Operation {
  let matcher: PathMatcher<CompiledOp> | undefined;
  return {
    operationId: 'executeComposite',
    api: 'composite',
    method: 'post',
    path: '/composite',
    summary: 'Run writes in one transaction, then selections against the committed data',
    description: 'Runs `requests` (post, patch, delete) in order inside one database transaction, passing values between them through '
      + '`vars` (JSONPath into a response) and `${name}` references; commits only if every one succeeds. Then runs `selections` (GETs) '
      + 'against the committed data. Only operations and query parameters flagged `x-gw-allowForCompositeApi: true` may appear; '
      + 'each subrequest is authorised as the caller, as if sent alone. Not allowed inside a composite itself.',
    tag: 'Composite',
    // Every subrequest is authorised on its own, as the caller; a reader may run selections.
    roles: READERS,
    allowForComposite: false,
    queryParams: [],
    body: CompositeBody,
    transactional: false,
    dryRun: 'handler',
    headers: [REQUEST_HEADERS.transactionId],
    responses: [
      { status: 200, description: 'Every request committed; selections ran', schema: CompositeResponseSchema, headers: ['Server-Timing'] },
      { status: 400, description: 'Refused before running (a plain error body naming the subrequest), or a request failed (requestFailed) and nothing was committed', schema: CompositeBadRequestSchema, headers: ['Server-Timing'] },
    ],
    async handler(ctx, input) {
      const start = process.hrtime.bigint();
      matcher ??= new PathMatcher(routeTable());
      const transactionId = input.headers['gw-dbtransaction-id'];
      if (transactionId !== undefined && (transactionId.length === 0 || transactionId.length > 128)) {
        throw errors.badInput('GW-DBTransaction-ID must be 1 to 128 characters');
      }
      const body = input.body as CompositeBody;
      const length = Number(input.headers['content-length']);
      const bodySize = Number.isSafeInteger(length) && length > 0 ? length : undefined;
      const plan = planComposite({ matcher, maxSubrequests: ctx.services.config.compositeMaxSubrequests, unknown: ctx.unknown, bodySize }, body);
      observerOf(ctx.services.knex).composite(plan.requests.length, plan.selections.length);
      if (transactionId !== undefined && (await alreadyExecuted(ctx.services.knex, transactionId))) throw errors.alreadyExecuted(transactionId);
      const outcome = await executeComposite(plan, { services: ctx.services, caller: ctx.caller, requestId: ctx.requestId, transactionId, dryRun: ctx.dryRun, unknown: ctx.unknown });
      return respond(outcome, Number(process.hrtime.bigint() - start) / 1e6, body.selections !== undefined);
    },
  };
}
