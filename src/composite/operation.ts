// Owns POST /rest/composite/v1/composite as an operation of the route table: parse → plan → execute → respond.
import type { Knex } from 'knex';
import type { CompiledOp } from '../api/dispatch';
import { REQUEST_HEADERS } from '../api/headers';
import { PathMatcher } from '../api/match';
import { READERS, type OpContext, type OpInput, type OpResult, type Operation, type Services } from '../api/operation';
import { errors } from '../errors';
import { observerOf } from '../observe';
import { executeComposite, type ExecuteContext, type RequestsDone } from './execute';
import { CompositeBody } from './parse';
import { planComposite, type CompositePlan } from './plan';
import { renderBudget } from './render';
import type { UnknownElements } from '../api/requestOptions';
import { respond } from './respond';
import { runSelections } from './selections';
import type { SubResponse, Timing } from './subresponse';
import { alreadyExecuted } from './transactionIds';
import { CompositeBadRequestSchema, CompositeResponseSchema } from './schemas';

/** What a replay needs beyond the stored answer: the variables the requests set, for the selections. */
interface CompositeReplayState {
  vars: Array<[string, unknown]>;
}

function replayState(vars: Map<string, unknown>): CompositeReplayState {
  return { vars: [...vars] };
}

/** The answer stored with the writes, before the selections ran (they run again when it is read). */
function committedAnswer(done: RequestsDone): OpResult {
  return { status: 200, body: { responses: done.responses }, headers: {}, replayState: replayState(done.vars) };
}

export function compositeOperation(routeTable: () => CompiledOp[], pool: Knex): Operation {
  let matcher: PathMatcher<CompiledOp> | undefined;
  /** Plans made by `check` for a call that then runs (a durable call checks before it runs): made once. */
  const checked = new WeakMap<OpInput, CompositePlan>();
  const transactionIdOf = (input: OpInput) => {
    const transactionId = input.headers['gw-dbtransaction-id'];
    if (transactionId !== undefined && (transactionId.length === 0 || transactionId.length > 128)) {
      throw errors.badInput('GW-DBTransaction-ID must be 1 to 128 characters');
    }
    return transactionId;
  };
  const planOf = (services: Services, input: OpInput, unknown?: UnknownElements): CompositePlan => {
    matcher ??= new PathMatcher(routeTable());
    // The body's size as received bounds what its variables may render (COMPOSITE_MAX_EXPANSION).
    const length = Number(input.headers['content-length']);
    const bodySize = Number.isSafeInteger(length) && length > 0 ? length : undefined;
    return planComposite(
      { matcher, maxSubrequests: services.config.compositeMaxSubrequests, unknown, bodySize },
      input.body as CompositeBody,
    );
  };
  const executeContext = (ctx: OpContext, transactionId?: string): ExecuteContext => ({
    services: ctx.services,
    pool,
    caller: ctx.caller,
    requestId: ctx.requestId,
    transactionId,
    dryRun: ctx.dryRun,
    unknown: ctx.unknown,
  });
  return {
    operationId: 'executeComposite',
    api: 'composite',
    method: 'post',
    path: '/composite',
    summary: 'Run writes in one transaction, then selections against the committed data',
    description:
      'Runs `requests` (post, patch, delete) in order inside one database transaction, passing values between them through ' +
      '`vars` (JSONPath into a response) and `${name}` references; commits only if every one succeeds. Then runs `selections` (GETs) ' +
      'against the committed data. Only operations and query parameters flagged `x-gw-allowForCompositeApi: true` may appear; ' +
      'each subrequest is authorised as the caller, as if sent alone. Not allowed inside a composite itself.',
    tag: 'Composite',
    // Every subrequest is authorised on its own, as the caller; a reader may run selections.
    roles: READERS,
    allowForComposite: false,
    queryParams: [],
    body: CompositeBody,
    transactional: false,
    commitHooks: true,
    dryRun: 'handler',
    headers: [REQUEST_HEADERS.transactionId],
    responses: [
      {
        status: 200,
        description: 'Every request committed; selections ran',
        schema: CompositeResponseSchema,
        headers: ['Server-Timing'],
      },
      {
        status: 400,
        description:
          'Refused before running (a plain error body naming the subrequest), or a request failed (requestFailed) and nothing was committed',
        schema: CompositeBadRequestSchema,
        headers: ['Server-Timing'],
      },
    ],
    check(services, input, unknown) {
      transactionIdOf(input);
      checked.set(input, planOf(services, input, unknown));
    },
    async replay(ctx, input, stored, state) {
      const start = process.hrtime.bigint();
      const plan = planOf(ctx.services, input, ctx.unknown);
      const timings: Timing[] = [];
      const selections = await runSelections(
        plan,
        executeContext(ctx),
        new Map((state as CompositeReplayState).vars),
        renderBudget(plan, ctx.services.config),
        timings,
      );
      const responses = (stored.body as { responses: SubResponse[] }).responses;
      return respond(
        { ok: true, responses, selections, timings, vars: new Map() },
        Number(process.hrtime.bigint() - start) / 1e6,
        (input.body as CompositeBody).selections !== undefined,
      );
    },
    async handler(ctx, input) {
      const start = process.hrtime.bigint();
      const transactionId = transactionIdOf(input);
      const body = input.body as CompositeBody;
      const plan = checked.get(input) ?? planOf(ctx.services, input, ctx.unknown);
      observerOf(pool).composite(plan.requests.length, plan.selections.length);
      if (transactionId !== undefined && (await alreadyExecuted(pool, transactionId)))
        throw errors.alreadyExecuted(transactionId);
      const { atBegin, beforeCommit } = ctx;
      const x = executeContext(ctx, transactionId);
      x.atBegin = atBegin;
      if (beforeCommit) x.beforeCommit = (trx, done) => beforeCommit(trx, committedAnswer(done));
      const outcome = await executeComposite(plan, x);
      const result = respond(outcome, Number(process.hrtime.bigint() - start) / 1e6, body.selections !== undefined);
      // Only a durable call keeps what a replay needs.
      if (outcome.ok && beforeCommit) result.replayState = replayState(outcome.vars);
      return result;
    },
  };
}
