// Owns the Activity resource definition: fields, typekeys, table mapping and links.
import type { KnexHandle } from '../../db/exec';
import { f, type AttributesOf, type FieldDef } from '../../model/fields';
import { refNameKey, type ResourceDef } from '../../model/resource';
import { USER_REF } from '../users/definition';

export const PRIORITIES = { urgent: 'Urgent', high: 'High', normal: 'Normal', low: 'Low' };
export const STATUSES = { open: 'Open', complete: 'Complete', canceled: 'Canceled', skipped: 'Skipped' };

const activityFields = {
  id: f.id(),
  subject: f.string('What the activity is about', { column: 'a.subject', required: true }),
  description: f.text('Longer description', { column: 'a.description', inDefault: false, nullable: true }),
  priority: f.typekey('Priority (default normal)', 'Priority', PRIORITIES, { column: 'a.priority' }),
  status: f.typekey('Status; changed only by the assign/complete actions', 'ActivityStatus', STATUSES, {
    column: 'a.status',
    readOnly: true,
  }),
  dueDate: f.date('Due date', { column: 'a.due_date', nullable: true }),
  assignedUser: f.ref('User the activity is assigned to', USER_REF, { column: 'a.assigned_user_id', nullable: true }),
  assignedByUser: f.ref('User who assigned it (the caller)', USER_REF, {
    column: 'a.assigned_by_user_id',
    readOnly: true,
  }),
  createTime: f.datetime('When the activity was created', { column: 'a.create_time', setAtCommit: true }),
  updateTime: f.datetime('When the activity last changed', { column: 'a.update_time', setAtCommit: true }),
} satisfies Record<string, FieldDef>;

export const activityResource: ResourceDef = {
  type: 'Activity',
  table: 'activities',
  alias: 'a',
  sequence: 'activities',
  uriPrefix: '/common/v1/activities',
  fields: activityFields,
  baseQuery: (h: KnexHandle) =>
    h('activities as a')
      .leftJoin('users as au', 'au.id', 'a.assigned_user_id')
      .leftJoin('users as ab', 'ab.id', 'a.assigned_by_user_id')
      .select(
        'a.*',
        { [refNameKey('assignedUser')]: h.raw('coalesce(au.display_name, au.username)') },
        { [refNameKey('assignedByUser')]: h.raw('coalesce(ab.display_name, ab.username)') },
      ),
  selfMethods: ['get', 'patch', 'delete'],
  extraLinks: (uri) => ({
    assign: { href: `${uri}/assign`, methods: ['post'] },
    complete: { href: `${uri}/complete`, methods: ['post'] },
    notes: { href: `${uri}/notes`, methods: ['get', 'post'] },
  }),
};

/** The attributes the server returns for a Activity, typed from the field definitions above. */
export type ActivityAttributes = AttributesOf<typeof activityFields>;
