// A 201 is built from the columns just written (not read back); it must equal what a GET then returns.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => { t = await startTestApp(); });
afterAll(async () => t.close());

async function createdEqualsRead(path: string, attributes: Record<string, unknown>, who: 'user' | 'admin' = 'user') {
  const created = await t.http.post(path).set('Authorization', t.auth(who)).query({ fields: '*all' }).send({ data: { attributes } });
  expect(created.status).toBe(201);
  const read = await t.http.get(created.headers.location.replace(/^/, '/rest')).set('Authorization', t.auth(who)).query({ fields: '*all' });
  expect(read.status).toBe(200);
  expect(created.body).toEqual(read.body);
  expect(created.headers['gw-checksum']).toBe(read.headers['gw-checksum']);
  return created.body.data.attributes;
}

test('activity: assigned to the caller (name known), to someone else (read back), and unassigned', async () => {
  expect((await createdEqualsRead('/rest/common/v1/activities', { subject: 'Mine', assignedUser: { id: t.ids.user }, dueDate: '2030-01-02', priority: { code: 'urgent' } })).assignedByUser.displayName).toBe('Alice User');
  expect((await createdEqualsRead('/rest/common/v1/activities', { subject: 'Theirs', assignedUser: { id: t.ids.reader }, description: 'd' })).assignedUser.displayName).toBe('Rita Reader');
  expect((await createdEqualsRead('/rest/common/v1/activities', { subject: 'Nobody' })).status.code).toBe('open');
});

test('note and user', async () => {
  const activity = await createdEqualsRead('/rest/common/v1/activities', { subject: 'Parent' });
  const note = await createdEqualsRead(`/rest/common/v1/activities/${activity.id}/notes`, { body: 'b', topic: { code: 'legal' }, confidential: true, subject: 's' });
  expect(note.author.displayName).toBe('Alice User');
  const user = await createdEqualsRead('/rest/admin/v1/users', { username: 'created-check', password: 'password-123', roles: ['reader', 'user'], active: false }, 'admin');
  expect(user).not.toHaveProperty('password');
  expect(user.active).toBe(false);
});
