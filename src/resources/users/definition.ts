// Owns the User resource definition: fields, table mapping and links.
import { Type, type TArray, type TString } from '@sinclair/typebox';
import type { KnexHandle } from '../../db/exec';
import { f, type AttributesOf, type FieldDef, type WriteOnlyField } from '../../model/fields';
import type { ResourceDef } from '../../model/resource';
import { ROLES } from '../../api/operation';

/** How other resources refer to a user (`assignedUser`, `author`). */
export const USER_REF = { resourceType: 'User', uriPrefix: '/admin/v1/users', table: 'users' };

const roles: FieldDef<TArray<TString>> = {
  kind: 'roles',
  column: 'u.roles',
  writeSchema: Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), {
    minItems: 1,
    maxItems: 3,
    uniqueItems: true,
  }),
  readSchema: Type.Array(Type.String()),
  filterable: false,
  sortable: false,
  inDefault: true,
  description: 'Roles: admin, user, reader',
};

const password: WriteOnlyField = {
  kind: 'password',
  writeOnly: true,
  required: true,
  description: 'Write-only; stored as a salted scrypt hash',
  writeSchema: Type.String({ minLength: 8, maxLength: 256 }),
};

const userFields = {
  id: f.id(),
  username: f.string('Login name, unique', {
    column: 'u.username',
    required: true,
    minLength: 1,
    maxLength: 64,
    writeSchema: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
  }),
  displayName: f.string('Name shown in references', { column: 'u.display_name', maxLength: 255, nullable: true }),
  roles,
  active: f.boolean('Whether the user may sign in', { column: 'u.active' }),
  password,
  createTime: f.datetime('When the user was created', { column: 'u.create_time', setAtCommit: true }),
  updateTime: f.datetime('When the user last changed', { column: 'u.update_time', setAtCommit: true }),
} satisfies Record<string, FieldDef>;

export const userResource: ResourceDef = {
  type: 'User',
  table: 'users',
  alias: 'u',
  sequence: 'users',
  uriPrefix: '/admin/v1/users',
  fields: userFields,
  baseQuery: (h: KnexHandle) => h('users as u').select('u.*'),
  selfMethods: ['get', 'patch', 'delete'],
};

/** The attributes the server returns for a User, typed from the field definitions above. */
export type UserAttributes = AttributesOf<typeof userFields>;
