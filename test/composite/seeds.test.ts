// The examples of seeds 001/002 (Guidewire composite requests), sent verbatim.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { composite, createActivity } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // The seed writes its notes to activity xc:202: make that id exist, as the seed assumes.
  const now = new Date().toISOString();
  await t.knex('activities').insert({
    id: 202,
    subject: 'Seed activity xc:202',
    priority: 'high',
    status: 'open',
    due_date: '2022-12-31',
    checksum: 0,
    create_time: now,
    update_time: now,
  });
  if (t.config.database.kind === 'sqlite')
    await t.knex('id_sequences').where({ name: 'activities' }).update({ next_id: 203 });
  else await t.knex.raw("SELECT setval('activities_seq', 203, false)");
});
afterAll(async () => t.close());

test('creates two notes for activity xc:202 (seed: simple composite request)', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities/xc:202/notes',
        body: { data: { attributes: { body: 'Cloud API note #1.' } } },
      },
      {
        method: 'post',
        uri: '/common/v1/activities/xc:202/notes',
        body: { data: { attributes: { body: 'Cloud API note #2.' } } },
      },
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.responses).toHaveLength(2);
  for (const [i, r] of res.body.responses.entries()) {
    expect(r.status).toBe(201);
    expect(r.body.data.attributes.body).toBe(`Cloud API note #${i + 1}.`);
    expect(r.body.data.attributes.relatedTo.id).toBe('xc:202');
    expect(r.headers.Location).toBe(`/common/v1/notes/${r.body.data.attributes.id}`);
    expect(r.headers['GW-Checksum']).toBe('0');
  }
  expect(res.body).not.toHaveProperty('selections');
  const notes = await t.knex('notes').where({ activity_id: 202 }).orderBy('id');
  expect(notes.map((n) => n.body)).toEqual(['Cloud API note #1.', 'Cloud API note #2.']);
});

test('creates an activity and a note through ${newActivityId}, then selects the new activity', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Contact the insured', priority: { code: 'urgent' } } } },
        vars: [{ name: 'newActivityId', path: '$.data.attributes.id' }],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${newActivityId}/notes',
        body: { data: { attributes: { body: 'Left a voicemail' } } },
      },
    ],
    selections: [{ uri: '/common/v1/activities/${newActivityId}' }],
  });
  expect(res.status).toBe(200);
  const activity = res.body.responses[0];
  expect(activity.status).toBe(201);
  const id = activity.body.data.attributes.id;
  // Reserved ids: the id shown is the id committed.
  expect(res.body.responses[1].body.data.attributes.relatedTo.id).toBe(id);
  expect(
    await t
      .knex('activities')
      .where({ id: Number(id.split(':')[1]) })
      .first(),
  ).toMatchObject({ subject: 'Contact the insured' });
  // Fields set at commit are left out of request subresponses, and shown by selections.
  expect(activity.body.data.attributes).not.toHaveProperty('createTime');
  expect(activity.body.data.attributes).not.toHaveProperty('updateTime');
  const selected = res.body.selections[0];
  expect(selected.status).toBe(200);
  expect(selected.body.data.attributes.id).toBe(id);
  expect(selected.body.data.attributes.createTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  expect(selected.body.data.attributes.priority).toEqual({ code: 'urgent', name: 'Urgent' });
});

test('includeResponse: false gives exactly {"responseIncluded": false} and its vars still work', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Quiet' } } },
        vars: [{ name: 'quietId', path: '$.data.attributes.id' }],
        includeResponse: false,
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${quietId}/notes',
        body: { data: { attributes: { body: 'Cloud API note #1.' } } },
        includeResponse: false,
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${quietId}/notes',
        body: { data: { attributes: { body: 'Cloud API note #2.' } } },
      },
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.responses[0]).toEqual({ responseIncluded: false });
  expect(res.body.responses[1]).toEqual({ responseIncluded: false });
  expect(res.body.responses[2].status).toBe(201);
  const activityId = Number(res.body.responses[2].body.data.attributes.relatedTo.id.split(':')[1]);
  expect(Number((await t.knex('notes').where({ activity_id: activityId }).count({ n: '*' }))[0].n)).toBe(2);
});

test('fields in a request subresponse (seed: query parameters in subrequests)', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Only id and assigned user', assignedUser: { id: t.ids.user } } } },
        parameters: { fields: 'id,assignedUser' },
      },
    ],
  });
  expect(res.status).toBe(200);
  expect(Object.keys(res.body.responses[0].body.data.attributes).sort()).toEqual(['assignedUser', 'id']);
  expect(res.body.responses[0].body.data.attributes.assignedUser).toMatchObject({
    id: t.ids.user,
    displayName: 'Alice User',
  });
});

test('selection query parameters: fields, filter, includeTotal, pageSize, sort (seed examples)', async () => {
  await createActivity(t, { subject: 'Old', dueDate: '2022-01-01', priority: { code: 'low' } });
  await createActivity(t, { subject: 'Later 1', dueDate: '2023-03-01', assignedUser: { id: t.ids.user } });
  await createActivity(t, { subject: 'Later 2', dueDate: '2023-02-01' });
  const res = await composite(
    t,
    {
      selections: [
        { uri: '/common/v1/activities', parameters: { fields: 'assignedUser,dueDate,priority,subject' } },
        { uri: '/common/v1/activities', parameters: { filter: ['dueDate:gt:2022-12-20', 'status:in:open,complete'] } },
        {
          uri: '/common/v1/activities',
          parameters: {
            fields: 'assignedUser,dueDate,priority,subject',
            filter: ['dueDate:gt:2022-12-20', 'status:in:open,complete'],
            includeTotal: true,
            pageSize: 2,
            sort: ['dueDate'],
          },
        },
      ],
    },
    'reader',
  );
  expect(res.status).toBe(200);
  expect(res.body.responses).toEqual([]);
  const [all, filtered, combined] = res.body.selections;
  for (const item of all.body.data) {
    expect(
      Object.keys(item.attributes).every((k: string) =>
        ['id', 'assignedUser', 'dueDate', 'priority', 'subject'].includes(k),
      ),
    ).toBe(true);
  }
  expect(
    filtered.body.data
      .map((d: { attributes: { dueDate: string } }) => d.attributes.dueDate)
      .every((d: string) => d > '2022-12-20'),
  ).toBe(true);
  expect(filtered.body.data.length).toBe(3); // xc:202 (2022-12-31) and the two later ones
  expect(combined.body.total).toBe(3);
  expect(combined.body.count).toBe(2);
  expect(combined.body.data.map((d: { attributes: { dueDate: string } }) => d.attributes.dueDate)).toEqual([
    '2022-12-31',
    '2023-02-01',
  ]);
  expect(combined.body.links.next.href).toContain('pageOffset=2');
});

test('a composite with only selections runs them at once', async () => {
  const id = await createActivity(t, { subject: 'Just read me' });
  const res = await composite(
    t,
    {
      selections: [
        { uri: `/common/v1/activities/${id}`, parameters: { fields: 'subject' } },
        { uri: '/common/v1/activities', method: 'GET', parameters: { pageSize: 1 } },
      ],
    },
    'reader',
  );
  expect(res.status).toBe(200);
  expect(res.body.selections[0]).toMatchObject({
    status: 200,
    body: { data: { attributes: { id, subject: 'Just read me' } } },
  });
  expect(res.body.selections[1].body.count).toBe(1);
  expect(res.headers['server-timing']).toMatch(/^sel\.0;dur=[\d.]+, sel\.1;dur=[\d.]+, total;dur=[\d.]+;desc="Total"$/);
});
