// A 201 is built from the columns just written (not read back); it must equal what a GET then returns.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

async function createdEqualsRead(path: string, attributes: Record<string, unknown>, who: 'user' | 'admin' = 'user') {
  const created = await t.http
    .post(path)
    .set('Authorization', t.auth(who))
    .query({ fields: '*all' })
    .send({ data: { attributes } });
  expect(created.status).toBe(201);
  const read = await t.http
    .get(created.headers.location.replace(/^/, '/rest'))
    .set('Authorization', t.auth(who))
    .query({ fields: '*all' });
  expect(read.status).toBe(200);
  expect(created.body).toEqual(read.body);
  expect(created.headers['gw-checksum']).toBe(read.headers['gw-checksum']);
  return created.body.data.attributes;
}

test('activity: assigned to the caller (name known), to someone else (read back), and unassigned', async () => {
  expect(
    (
      await createdEqualsRead('/rest/common/v1/activities', {
        subject: 'Mine',
        assignedUser: { id: t.ids.user },
        dueDate: '2030-01-02',
        priority: { code: 'urgent' },
      })
    ).assignedByUser.displayName,
  ).toBe('Alice User');
  expect(
    (
      await createdEqualsRead('/rest/common/v1/activities', {
        subject: 'Theirs',
        assignedUser: { id: t.ids.reader },
        description: 'd',
      })
    ).assignedUser.displayName,
  ).toBe('Rita Reader');
  expect((await createdEqualsRead('/rest/common/v1/activities', { subject: 'Nobody' })).status.code).toBe('open');
});

test('note and user', async () => {
  const activity = await createdEqualsRead('/rest/common/v1/activities', { subject: 'Parent' });
  const note = await createdEqualsRead(`/rest/common/v1/activities/${activity.id}/notes`, {
    body: 'b',
    topic: { code: 'legal' },
    confidential: true,
    subject: 's',
  });
  expect(note.author.displayName).toBe('Alice User');
  const user = await createdEqualsRead(
    '/rest/admin/v1/users',
    { username: 'created-check', password: 'password-123', roles: ['reader', 'user'], active: false },
    'admin',
  );
  expect(user).not.toHaveProperty('password');
  expect(user.active).toBe(false);
});

test('one composite inserting rows of different column sets: every row holds exactly what its own subrequest sent', async () => {
  // Inserts are compiled once per set of columns; rows with different sets, interleaved, must not share one.
  const activities = [
    { subject: 'A1', dueDate: '2031-01-01' },
    { subject: 'A2', priority: { code: 'low' }, description: 'only here' },
    { subject: 'A3', dueDate: '2031-03-03', assignedUser: { id: t.ids.reader } },
    { subject: 'A4' },
  ];
  const notes = [
    { body: 'n1', topic: { code: 'legal' } },
    { body: 'n2' },
    { body: 'n3', confidential: true, subject: 'with subject' },
  ];
  const requests: unknown[] = [];
  activities.forEach((attributes, i) => {
    requests.push({
      method: 'post',
      uri: '/common/v1/activities',
      body: { data: { attributes } },
      vars: [{ name: `a${i}`, path: '$.data.attributes.id' }],
    });
    requests.push({
      method: 'post',
      uri: `/common/v1/activities/\${a${i}}/notes`,
      body: { data: { attributes: notes[i % notes.length] } },
    });
  });
  const res = await t.http.post('/rest/composite/v1/composite').set('Authorization', t.auth('user')).send({ requests });
  expect(res.status).toBe(200);
  for (let i = 0; i < activities.length; i++) {
    const activity = res.body.responses[2 * i].body.data.attributes;
    const note = res.body.responses[2 * i + 1].body.data.attributes;
    const readActivity = (
      await t.http
        .get(`/rest/common/v1/activities/${activity.id}`)
        .set('Authorization', t.auth('user'))
        .query({ fields: '*all' })
    ).body.data.attributes;
    const readNote = (
      await t.http
        .get(`/rest/common/v1/notes/${note.id}`)
        .set('Authorization', t.auth('user'))
        .query({ fields: '*all' })
    ).body.data.attributes;
    const sent = activities[i] as Record<string, unknown>;
    expect(readActivity.subject).toBe(sent.subject);
    expect(readActivity.dueDate ?? null).toBe(sent.dueDate ?? null);
    expect(readActivity.description ?? null).toBe(sent.description ?? null);
    expect(readActivity.priority.code).toBe((sent.priority as { code: string } | undefined)?.code ?? 'normal');
    expect(readActivity.assignedUser?.id ?? null).toBe((sent.assignedUser as { id: string } | undefined)?.id ?? null);
    const sentNote = notes[i % notes.length] as Record<string, unknown>;
    expect(readNote.body).toBe(sentNote.body);
    expect(readNote.topic?.code ?? null).toBe((sentNote.topic as { code: string } | undefined)?.code ?? null);
    expect(readNote.confidential).toBe(sentNote.confidential ?? false);
    expect(readNote.subject ?? null).toBe(sentNote.subject ?? null);
    expect(readNote.relatedTo.id).toBe(activity.id);
    // What the 201 said is what was stored (the composite leaves out only what is set at commit).
    for (const [k, v] of Object.entries(activity)) expect(readActivity[k]).toEqual(v);
    for (const [k, v] of Object.entries(note)) expect(readNote[k]).toEqual(v);
  }
});
