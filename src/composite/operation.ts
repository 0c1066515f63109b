// Owns POST /rest/composite/v1/composite as an operation of the route table: parse → plan → execute → respond.
import { Type } from '@sinclair/typebox';
import type { CompiledOp } from '../api/dispatch';
import { PathMatcher } from '../api/match';
import { READERS, type OpContext, type OpInput, type OpResult, type Operation, type Services } from '../api/operation';
import { errors } from '../errors';
import { alreadyExecuted, executeComposite, runSelections, type ExecuteContext, type RequestsDone, type SubResponse, type Timing } from './execute';
import { CompositeBody } from './parse';
import { planComposite, type CompositePlan } from './plan';
import { respond } from './respond';

const SubResponseSchema = Type.Object({}, { additionalProperties: true });

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

export function compositeOperation(routeTable: () => CompiledOp[]): Operation {
  let matcher: PathMatcher<CompiledOp> | undefined;
  const transactionIdOf = (input: OpInput) => {
    const transactionId = input.headers['gw-dbtransaction-id'];
    if (transactionId !== undefined && (transactionId.length === 0 || transactionId.length > 128)) {
      throw errors.badInput('GW-DBTransaction-ID must be 1 to 128 characters');
    }
    return transactionId;
  };
  const planOf = (services: Services, input: OpInput): CompositePlan => {
    matcher ??= new PathMatcher(routeTable());
    return planComposite({ matcher, maxSubrequests: services.config.compositeMaxSubrequests }, input.body as CompositeBody);
  };
  const executeContext = (ctx: OpContext, transactionId?: string): ExecuteContext => ({ services: ctx.services, caller: ctx.caller, requestId: ctx.requestId, transactionId });
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
    responses: [
      { status: 200, description: 'Every request committed; selections ran', schema: Type.Object({ responses: Type.Array(SubResponseSchema), selections: Type.Optional(Type.Array(SubResponseSchema)) }) },
      { status: 400, description: 'Refused before running, or a subrequest failed (requestFailed) and nothing was committed' },
      { status: 401, description: 'Not authenticated' },
    ],
    check(services, input) {
      transactionIdOf(input);
      planOf(services, input);
    },
    async replay(ctx, input, stored, state) {
      const start = process.hrtime.bigint();
      const plan = planOf(ctx.services, input);
      const timings: Timing[] = [];
      const selections = await runSelections(plan, executeContext(ctx), new Map((state as CompositeReplayState).vars), timings);
      const responses = (stored.body as { responses: SubResponse[] }).responses;
      return respond({ ok: true, responses, selections, timings, vars: new Map() }, Number(process.hrtime.bigint() - start) / 1e6, (input.body as CompositeBody).selections !== undefined);
    },
    async handler(ctx, input) {
      const start = process.hrtime.bigint();
      const transactionId = transactionIdOf(input);
      const body = input.body as CompositeBody;
      const plan = planOf(ctx.services, input);
      if (transactionId !== undefined && (await alreadyExecuted(ctx.services.knex, transactionId))) throw errors.alreadyExecuted(transactionId);
      const { beforeCommit } = ctx;
      const x = executeContext(ctx, transactionId);
      if (beforeCommit) x.beforeCommit = (trx, done) => beforeCommit(trx, committedAnswer(done));
      const outcome = await executeComposite(plan, x);
      const result = respond(outcome, Number(process.hrtime.bigint() - start) / 1e6, body.selections !== undefined);
      if (outcome.ok) result.replayState = replayState(outcome.vars);
      return result;
    },
  };
}
