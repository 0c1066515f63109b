// Owns the /admin/v1/users operations (admin only): the standard set plus password hashing and roles.
import type { Operation } from '../../api/operation';
import { ADMINS } from '../../api/operation';
import { hashPassword } from '../../model/passwords';
import { deleteOp, patchOp } from '../itemOps';
import { createOp, getOp, listOp } from '../standardOps';
import { userResource as res } from './definition';

const common = { res, api: 'admin' as const, tag: 'Users', roles: ADMINS };

async function userColumns(attributes: Record<string, unknown>): Promise<Record<string, unknown>> {
  const columns: Record<string, unknown> = {};
  if (attributes.roles !== undefined) columns.roles = JSON.stringify(attributes.roles);
  if (typeof attributes.password === 'string') columns.password_hash = await hashPassword(attributes.password);
  return columns;
}

export const userOperations: Operation[] = [
  listOp({ ...common, operationId: 'listUsers', summary: 'List users', path: '/users' }),
  createOp({
    ...common,
    operationId: 'createUser',
    summary: 'Create a user',
    path: '/users',
    defaults: { roles: JSON.stringify(['user']), active: true },
    columns: (_ctx, attributes) => userColumns(attributes),
  }),
  getOp({ ...common, operationId: 'getUser', summary: 'Get a user', path: '/users/{userId}', idParam: 'userId' }),
  patchOp({
    ...common,
    operationId: 'updateUser',
    summary: 'Update a user',
    path: '/users/{userId}',
    idParam: 'userId',
    columns: (_ctx, attributes) => userColumns(attributes),
  }),
  deleteOp({
    ...common,
    operationId: 'deleteUser',
    summary: 'Delete a user',
    path: '/users/{userId}',
    idParam: 'userId',
  }),
];
