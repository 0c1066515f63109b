// Owns POST /rest/<api>/v1/batch as operations of the route table (one per API that has resources):
// plan (before anything runs) → run each subrequest as if sent alone → the entries in order.
import { Type } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import { ADMINS, READERS, type ApiName, type Operation, type Role } from '../api/operation';
import { observerOf } from '../observe';
import { planBatch, BATCH_PATH } from './plan';
import { headerFilter, runBatch } from './run';
import { BatchBody, BatchResponse } from './schema';

const INCLUDE_RESPONSE_HEADERS = {
  name: 'includeResponseHeaders',
  schema: Type.String({ maxLength: 2048 }),
  description: 'Which response headers each entry shows: all (default), none, or a comma list of header names',
  allowForComposite: false,
};

function batchOperation(api: ApiName, roles: readonly Role[], routeTable: () => CompiledOp[], pool: Knex): Operation {
  let matcher: PathMatcher<CompiledOp> | undefined;
  return {
    operationId: `${api}Batch`,
    api,
    method: 'post',
    path: BATCH_PATH,
    summary: `Run several /${api}/v1 requests one after another, each as if sent alone`,
    tag: 'Batch',
    // Every subrequest is authorised on its own, as the caller.
    roles,
    allowForComposite: false,
    queryParams: [INCLUDE_RESPONSE_HEADERS],
    body: BatchBody,
    transactional: false,
    dryRun: 'handler',
    responses: [
      {
        status: 200,
        description: "The batch was well-formed; each entry is its subrequest's answer, or skipped",
        schema: BatchResponse,
      },
      { status: 400, description: 'Refused before anything ran (shape, limit, method, path, a nested batch)' },
      { status: 401, description: 'Not authenticated' },
      { status: 403, description: 'Not allowed for this role' },
    ],
    // Before an asynchronous batch is accepted: its shape, limit, methods and paths (what needs no data).
    check(services, input) {
      matcher ??= new PathMatcher(routeTable());
      planBatch({ api, matcher, maxSubrequests: services.config.batchMaxSubrequests }, input.body as BatchBody);
    },
    async handler(ctx, input) {
      matcher ??= new PathMatcher(routeTable());
      const show = headerFilter(input.query.includeResponseHeaders as string | undefined);
      const plan = planBatch(
        { api, matcher, maxSubrequests: ctx.services.config.batchMaxSubrequests },
        input.body as BatchBody,
      );
      observerOf(pool).batch(plan.length);
      const responses = await runBatch(
        plan,
        {
          rt: { services: ctx.services, pool },
          caller: ctx.caller,
          requestId: ctx.requestId,
          headers: input.headers,
          dryRun: ctx.dryRun === true,
          unknown: ctx.unknown,
        },
        show,
      );
      return { status: 200, body: { responses } };
    },
  };
}

/** The batch operations: /common/v1/batch for any caller, /admin/v1/batch for admins (as every admin operation). */
export function batchOperations(routeTable: () => CompiledOp[], pool: Knex): Operation[] {
  return [batchOperation('common', READERS, routeTable, pool), batchOperation('admin', ADMINS, routeTable, pool)];
}
