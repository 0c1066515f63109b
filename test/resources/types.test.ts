// The TypeScript types derived from the resource definitions describe what the server returns.
// `npm run typecheck` compiles this file: the @ts-expect-error lines fail the type check if the types drift.
import type { ActivityAttributes, NoteAttributes, UserAttributes } from '../../src/client';
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

test('a created activity, note and user fit the derived types', async () => {
  const a = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({
      data: { attributes: { subject: 'Typed', priority: { code: 'low' }, assignedUser: { id: t.ids.reader } } },
    });
  const activity: ActivityAttributes = a.body.data.attributes;
  expect(activity.priority?.name).toBe('Low');
  expect(activity.assignedUser?.displayName).toBe('Rita Reader');
  const n = await t.http
    .post(`/rest/common/v1/activities/${activity.id}/notes`)
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { body: 'b' } } });
  const note: NoteAttributes = n.body.data.attributes;
  expect(note.relatedTo?.id).toBe(activity.id);
  const u = await t.http.get(`/rest/admin/v1/users/${t.ids.user}`).set('Authorization', t.auth('admin'));
  const user: UserAttributes = u.body.data.attributes;
  expect(user.roles).toEqual(['user']);
  expect(Object.keys(user)).not.toContain('password');

  // @ts-expect-error a password is never part of the returned attributes
  const withPassword: UserAttributes = { password: 'secret' };
  // @ts-expect-error a typekey is an object with code and name, not a string
  const badPriority: ActivityAttributes = { priority: 'high' };
  expect([withPassword, badPriority]).toHaveLength(2);
});
