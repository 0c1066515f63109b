// Owns the /common/v1/activities operations: the standard set, the assign and complete actions, and search.
import { Type } from '@sinclair/typebox';
import { READERS, WRITERS, type Operation, type OpContext } from '../../api/operation';
import { errors } from '../../errors';
import { listCollection } from '../../query/collection';
import { parseFilter } from '../../query/filter';
import { SEARCH_PARAMS, MAX_FILTERS, type CollectionQuery } from '../../query/params';
import { ID_PATTERN } from '../../model/fields';
import { attributeColumns } from '../rows';
import { collectionResponseSchema, envelopeSchema } from '../../model/resource';
import { actionOp, deleteOp, patchOp } from '../itemOps';
import { createOp, getOp, itemResponse, listOp, type Envelope } from '../standardOps';
import type { IncludableChild } from '../inclusion';
import { createNote, updateNote } from '../notes/operations';
import { noteResource } from '../notes/definition';
import { activityResource as res } from './definition';

const common = { res, api: 'common' as const, tag: 'Activities' };

/** Request inclusion: an activity's POST and PATCH may carry its notes in `included.Note`. */
const includes: IncludableChild[] = [
  {
    type: 'Note',
    resource: noteResource,
    create: createNote,
    rootParam: 'activityId',
    update: updateNote,
    rootColumn: 'activity_id',
  },
];
const itemPath = '/activities/{activityId}';

/** Whoever sets `assignedUser` becomes `assignedByUser`. */
function assignedBy(ctx: OpContext, attributes: Record<string, unknown>): Record<string, unknown> {
  return attributes.assignedUser !== undefined
    ? { assigned_by_user_id: attributes.assignedUser === null ? null : (ctx.caller.id ?? null) }
    : {};
}

const actionResponses = [
  itemResponse(res, 200, 'The updated Activity'),
  { status: 400, description: 'Bad input or the activity is closed' },
];

const assignBody = envelopeSchema(
  Type.Object(
    {
      assignedUser: Type.Object(
        { id: Type.String({ pattern: ID_PATTERN, maxLength: 40 }) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  'ActivityAssign',
);

/** Filters in a search body: `"field:op:value"` strings, or `{field, op, value}` objects. */
const searchBody = envelopeSchema(
  Type.Object(
    {
      filters: Type.Optional(
        Type.Array(
          Type.Union([
            Type.String({ maxLength: 1000 }),
            Type.Object(
              {
                field: Type.String({ maxLength: 64 }),
                op: Type.String({ maxLength: 8 }),
                value: Type.String({ maxLength: 1000 }),
              },
              { additionalProperties: false },
            ),
          ]),
          { maxItems: MAX_FILTERS },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  'ActivitySearch',
);

export const activityOperations: Operation[] = [
  listOp({ ...common, operationId: 'listActivities', summary: 'List activities', path: '/activities', roles: READERS }),
  createOp({
    ...common,
    operationId: 'createActivity',
    summary: 'Create an activity',
    path: '/activities',
    roles: WRITERS,
    defaults: { status: 'open', priority: 'normal' },
    columns: assignedBy,
    includes,
  }),
  getOp({
    ...common,
    operationId: 'getActivity',
    summary: 'Get an activity',
    path: itemPath,
    idParam: 'activityId',
    roles: READERS,
  }),
  patchOp({
    ...common,
    operationId: 'updateActivity',
    summary: 'Update an activity',
    path: itemPath,
    idParam: 'activityId',
    roles: WRITERS,
    columns: assignedBy,
    includes,
  }),
  deleteOp({
    ...common,
    operationId: 'deleteActivity',
    summary: 'Delete an activity and its notes',
    path: itemPath,
    idParam: 'activityId',
    roles: WRITERS,
  }),
  actionOp({
    ...common,
    operationId: 'assignActivity',
    summary: 'Assign an activity to a user',
    path: `${itemPath}/assign`,
    idParam: 'activityId',
    roles: WRITERS,
    body: assignBody,
    responses: actionResponses,
    async change(ctx, row, input) {
      if (row.status !== 'open')
        throw errors.badInput(`Activity ${input.params.activityId} is ${String(row.status)} and cannot be assigned`);
      const { attributes } = (input.body as Envelope).data;
      return { ...(await attributeColumns(ctx, res, attributes)), ...assignedBy(ctx, attributes) };
    },
  }),
  actionOp({
    ...common,
    operationId: 'completeActivity',
    summary: 'Complete an activity',
    path: `${itemPath}/complete`,
    idParam: 'activityId',
    roles: WRITERS,
    responses: actionResponses,
    change(_ctx, row, input) {
      if (row.status !== 'open')
        throw errors.badInput(`Activity ${input.params.activityId} is already ${String(row.status)}`);
      return { status: 'complete' };
    },
  }),
  {
    ...common,
    operationId: 'searchActivities',
    summary: 'Search activities with filters in the body',
    method: 'post',
    path: '/search/activities',
    roles: READERS,
    allowForComposite: false,
    queryParams: SEARCH_PARAMS,
    transactional: false,
    dryRun: 'readOnly',
    body: searchBody,
    responses: [
      { status: 200, description: 'A page of matching activities', schema: collectionResponseSchema(res) },
      { status: 400, description: 'Bad input' },
    ],
    async handler(ctx, input) {
      const filters =
        (
          input.body as {
            data: { attributes: { filters?: Array<string | { field: string; op: string; value: string }> } };
          }
        ).data.attributes.filters ?? [];
      const expressions = filters.map((x) =>
        typeof x === 'string' ? x : `${x.field}:${x.op}:${x.value.replace(/:/g, '::')}`,
      );
      const extraFilters = expressions.map((e) => parseFilter(res, e, ctx.services.ids));
      const body = await listCollection(ctx.db, res, input.query as CollectionQuery, {
        ids: ctx.services.ids,
        path: '/common/v1/search/activities',
        extraFilters,
        linkMethods: ['post'],
      });
      return { status: 200, body };
    },
  },
];
