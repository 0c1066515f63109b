// Owns the note operations: list and create under an activity, and get/update/delete by note id.
import { READERS, WRITERS, type Operation, type OpContext, type OpInput } from '../../api/operation';
import type { MaybePromise } from '../../db/maybePromise';
import { requireId } from '../rows';
import { activityResource } from '../activities/definition';
import { deleteOp, patchOp } from '../itemOps';
import { createOp, getOp, listOp } from '../standardOps';
import { noteResource as res } from './definition';

const common = { res, api: 'common' as const, tag: 'Notes' };
const itemPath = '/notes/{noteId}';

function parentActivityId(ctx: OpContext, input: OpInput): MaybePromise<number> {
  return requireId(ctx, activityResource, input.params.activityId);
}

/** Exported alone too: an activity's POST and PATCH include notes through them (see activities/operations.ts). */
export const createNote = createOp({
  ...common,
  operationId: 'createActivityNote',
  summary: 'Add a note to an activity',
  path: '/activities/{activityId}/notes',
  roles: WRITERS,
  defaults: { confidential: false },
  columns: (ctx, _attributes, input) => {
    const activityId = parentActivityId(ctx, input);
    if (activityId instanceof Promise) return activityId.then((id) => noteColumns(ctx, id));
    return noteColumns(ctx, activityId);
  },
});

/** A new note's own columns: its activity, and the caller as its author. */
function noteColumns(ctx: OpContext, activityId: number): Record<string, unknown> {
  return { activity_id: activityId, author_id: ctx.caller.id ?? null };
}

export const updateNote = patchOp({
  ...common,
  operationId: 'updateNote',
  summary: 'Update a note',
  path: itemPath,
  idParam: 'noteId',
  roles: WRITERS,
});

export const noteOperations: Operation[] = [
  listOp({
    ...common,
    operationId: 'listActivityNotes',
    summary: 'List the notes of an activity',
    path: '/activities/{activityId}/notes',
    roles: READERS,
    scope: async (ctx, input) => {
      const activityId = await parentActivityId(ctx, input);
      return (qb) => qb.where('n.activity_id', activityId);
    },
  }),
  createNote,
  getOp({
    ...common,
    operationId: 'getNote',
    summary: 'Get a note',
    path: itemPath,
    idParam: 'noteId',
    roles: READERS,
  }),
  updateNote,
  deleteOp({
    ...common,
    operationId: 'deleteNote',
    summary: 'Delete a note',
    path: itemPath,
    idParam: 'noteId',
    roles: WRITERS,
  }),
];
