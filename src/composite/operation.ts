// Owns POST /rest/composite/v1/composite as an operation of the route table: parse → plan → execute → respond.
import { Type } from '@sinclair/typebox';
import type { CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import { READERS, type Operation } from '../api/operation';
import { errors } from '../errors';
import { observerOf } from '../observe';
import { alreadyExecuted, executeComposite } from './execute';
import { CompositeBody } from './parse';
import { planComposite } from './plan';
import { respond } from './respond';

const SubResponseSchema = Type.Object({}, { additionalProperties: true });

export function compositeOperation(routeTable: () => CompiledOp[]): Operation {
  let matcher: PathMatcher<CompiledOp> | undefined;
  return {
    operationId: 'executeComposite',
    api: 'composite',
    method: 'post',
    path: '/composite',
    summary: 'Run writes in one transaction, then selections against the committed data',
    tag: 'Composite',
    // Every subrequest is authorised on its own, as the caller; a reader may run selections.
    roles: READERS,
    allowForComposite: false,
    queryParams: [],
    body: CompositeBody,
    transactional: false,
    dryRun: 'handler',
    responses: [
      { status: 200, description: 'Every request committed; selections ran', schema: Type.Object({ responses: Type.Array(SubResponseSchema), selections: Type.Optional(Type.Array(SubResponseSchema)) }) },
      { status: 400, description: 'Refused before running, or a subrequest failed (requestFailed) and nothing was committed' },
      { status: 401, description: 'Not authenticated' },
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
