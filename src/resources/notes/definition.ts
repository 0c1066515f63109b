// Owns the Note resource definition: fields, typekeys, table mapping and links.
import { Type } from '@sinclair/typebox';
import type { KnexHandle } from '../../db/exec';
import { f, type AttributesOf, type FieldDef } from '../../model/fields';
import { refNameKey, type ResourceDef } from '../../model/resource';
import { USER_REF } from '../users/definition';

export const TOPICS = { general: 'General', legal: 'Legal', medical: 'Medical', other: 'Other' };

const noteFields = {
  id: f.id(),
  subject: f.string('Short subject', { column: 'n.subject', nullable: true }),
  body: f.text('The note text', { column: 'n.body', required: true }),
  topic: f.typekey('Topic', 'NoteTopic', TOPICS, { column: 'n.topic', nullable: true }),
  confidential: f.boolean('Whether the note is confidential', { column: 'n.confidential' }),
  relatedTo: {
    kind: 'relatedTo',
    column: 'n.activity_id',
    readOnly: true,
    filterable: true,
    sortable: true,
    inDefault: true,
    ref: { resourceType: 'Activity', uriPrefix: '/common/v1/activities', table: 'activities' },
    readSchema: Type.Object({ id: Type.String(), type: Type.String(), uri: Type.String() }),
    description: 'The activity the note belongs to',
  },
  author: f.ref('Who wrote the note (the caller)', USER_REF, { column: 'n.author_id', readOnly: true }),
  createTime: f.datetime('When the note was created', { column: 'n.create_time', setAtCommit: true }),
  updateTime: f.datetime('When the note last changed', { column: 'n.update_time', setAtCommit: true }),
} satisfies Record<string, FieldDef>;

export const noteResource: ResourceDef = {
  type: 'Note',
  table: 'notes',
  alias: 'n',
  sequence: 'notes',
  uriPrefix: '/common/v1/notes',
  fields: noteFields,
  baseQuery: (h: KnexHandle) =>
    h('notes as n')
      .leftJoin('users as na', 'na.id', 'n.author_id')
      .select('n.*', { [refNameKey('author')]: h.raw('coalesce(na.display_name, na.username)') }),
  selfMethods: ['get', 'patch', 'delete'],
};

/** The attributes the server returns for a Note, typed from the field definitions above. */
export type NoteAttributes = AttributesOf<typeof noteFields>;
