// Request inclusion (SPEC §8): an activity's POST and PATCH carry notes in `included`, all in one
// transaction with the root; any child's failure fails the whole call and leaves nothing behind.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity } from '../composite/helpers';
import { batch, fullSnapshot } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const ACTIVITIES = '/rest/common/v1/activities';
const note = (body: string, uri = '/common/v1/activities/this/notes') => ({
  method: 'post',
  uri,
  attributes: { body },
});
const send = (method: 'post' | 'patch', path: string, body: unknown, headers: Record<string, string> = {}) => {
  const req = t.http[method](path).set('Authorization', t.auth('user'));
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(body as object);
};

test('a POST with several notes: one transaction, the answer carries included', async () => {
  const res = await send('post', ACTIVITIES, {
    data: { attributes: { subject: 'With notes' } },
    included: {
      Note: [
        note('first'),
        note('second'),
        { ...note('third'), attributes: { body: 'third', topic: { code: 'legal' } } },
      ],
    },
  });
  expect(res.status).toBe(201);
  const id = res.body.data.attributes.id;
  expect(res.headers.location).toBe(`/common/v1/activities/${id}`);
  expect(res.body.included.Note.map((n: { attributes: { body: string } }) => n.attributes.body)).toEqual([
    'first',
    'second',
    'third',
  ]);
  expect(res.body.included.Note[2].attributes.topic.code).toBe('legal');
  for (const n of res.body.included.Note) expect(n.attributes.relatedTo.id).toBe(id);
  const stored = await t.http.get(`${ACTIVITIES}/${id}/notes`).set('Authorization', t.auth('user'));
  expect(stored.body.count).toBe(3);
  expect(stored.body.data[0].attributes.author.id).toBe(t.ids.user);
});

test('a failing third note fails the whole call with its status, naming included.Note[2], and leaves nothing behind', async () => {
  const other = await createActivity(t, { subject: 'Other root' });
  const before = await fullSnapshot(t);
  // The third note names another activity: found only when it runs, after the root and two notes were written.
  const res = await send('post', ACTIVITIES, {
    data: { attributes: { subject: 'Never' } },
    included: { Note: [note('one'), note('two'), note('three', `/common/v1/activities/${other}/notes`)] },
  });
  expectError(res, 400);
  expect(res.body.userMessage).toMatch(/^included\.Note\[2\]: Children attach only to the root/);
  expect(
    res.body.details.every((d: { properties: { included: string } }) => d.properties.included === 'included.Note[2]'),
  ).toBe(true);
  // A bad typekey in the third note is refused by the schema, its details naming the note too.
  const badTopic = await send('post', ACTIVITIES, {
    data: { attributes: { subject: 'Never' } },
    included: {
      Note: [
        note('one'),
        note('two'),
        {
          method: 'post',
          uri: '/common/v1/activities/this/notes',
          attributes: { body: 'x', topic: { code: 'nonsense' } },
        },
      ],
    },
  });
  expectError(badTopic, 400);
  expect(badTopic.body.details[0].properties.included).toBe('included.Note[2]');
  // Under a POST root, a patch child is refused by the schema before anything runs.
  expectError(
    await send('post', ACTIVITIES, {
      data: { attributes: { subject: 'Never' } },
      included: { Note: [{ method: 'patch', uri: '/common/v1/notes/xc:1', attributes: { body: 'x' } }] },
    }),
    400,
  );
  expect(await fullSnapshot(t)).toBe(before);
});

test('"this" outside request inclusion is refused with 400', async () => {
  expectError(await send('post', `${ACTIVITIES}/this/notes`, { data: { attributes: { body: 'x' } } }), 400);
  const inBatch = await batch(t, { requests: [{ method: 'get', path: '/activities/this' }] });
  expect(inBatch.body.responses[0].status).toBe(400);
});

test("PATCH: post new notes and patch the root's own, in one transaction; a note of another activity is refused", async () => {
  const created = await send('post', ACTIVITIES, {
    data: { attributes: { subject: 'Root' } },
    included: { Note: [note('old body')] },
  });
  const id = created.body.data.attributes.id;
  const noteId = created.body.included.Note[0].attributes.id;
  const res = await send('patch', `${ACTIVITIES}/${id}`, {
    data: { attributes: { subject: 'Root renamed' } },
    included: {
      Note: [
        { method: 'patch', uri: `/common/v1/notes/${noteId}`, attributes: { body: 'new body' }, checksum: '0' },
        note('added'),
      ],
    },
  });
  expect(res.status).toBe(200);
  expect(res.body.data.attributes.subject).toBe('Root renamed');
  expect(res.body.included.Note.map((n: { attributes: { body: string } }) => n.attributes.body)).toEqual([
    'new body',
    'added',
  ]);
  // Only children: the root stays as it is.
  const onlyChildren = await send('patch', `${ACTIVITIES}/${id}`, {
    data: { attributes: {} },
    included: { Note: [note('only a child')] },
  });
  expect(onlyChildren.status).toBe(200);
  expect(onlyChildren.body.data.checksum).toBe(res.body.data.checksum);
  // A stale checksum on a child: 409, and the root's change is undone with it.
  const before = await fullSnapshot(t);
  const stale = await send('patch', `${ACTIVITIES}/${id}`, {
    data: { attributes: { subject: 'Never' } },
    included: {
      Note: [{ method: 'patch', uri: `/common/v1/notes/${noteId}`, attributes: { body: 'x' }, checksum: '0' }],
    },
  });
  expectError(stale, 409);
  expect(stale.body.details[0].properties.included).toBe('included.Note[0]');
  // Dropping unknown members never drops a patch child's checksum: still 409, the unknown member gone.
  const staleIgnoring = await send(
    'patch',
    `${ACTIVITIES}/${id}`,
    {
      data: { attributes: { subject: 'Never' } },
      included: {
        Note: [
          {
            method: 'patch',
            uri: `/common/v1/notes/${noteId}`,
            attributes: { body: 'x' },
            checksum: '0',
            colour: 'red',
          },
        ],
      },
    },
    { 'GW-UnknownPropertyHandling': 'ignore' },
  );
  expectError(staleIgnoring, 409);
  // A note that does not exist: the child's 404 is the call's.
  const missing = await send('patch', `${ACTIVITIES}/${id}`, {
    data: { attributes: { subject: 'Never' } },
    included: {
      Note: [note('fine'), { method: 'patch', uri: '/common/v1/notes/xc:999999', attributes: { body: 'x' } }],
    },
  });
  expectError(missing, 404);
  expect(missing.body.details[0].properties.included).toBe('included.Note[1]');
  // A note that belongs to another activity.
  const other = await send('post', ACTIVITIES, {
    data: { attributes: { subject: 'Other' } },
    included: { Note: [note('theirs')] },
  });
  const snapshotBefore = await fullSnapshot(t);
  const foreign = await send('patch', `${ACTIVITIES}/${id}`, {
    data: { attributes: { subject: 'Never' } },
    included: {
      Note: [
        {
          method: 'patch',
          uri: `/common/v1/notes/${other.body.included.Note[0].attributes.id}`,
          attributes: { body: 'x' },
        },
      ],
    },
  });
  expectError(foreign, 400);
  expect(await fullSnapshot(t)).toBe(snapshotBefore);
  expect((await t.knex('activities').where({ subject: 'Never' })).length).toBe(0);
  expect(before).not.toBe(snapshotBefore);
});

test('inclusion inside a composite is refused with 400 before the transaction begins; inside a batch it runs', async () => {
  const before = await fullSnapshot(t);
  const res = await composite(t, {
    requests: [
      { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'first' } } } },
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'In composite' } }, included: { Note: [note('x')] } },
      },
    ],
  });
  expectError(res, 400);
  expect(res.body.userMessage).toMatch(/requests\[1\].*not allowed inside a composite/);
  expect(await fullSnapshot(t)).toBe(before);
  const inBatch = await batch(t, {
    requests: [
      {
        method: 'post',
        path: '/activities',
        body: { data: { attributes: { subject: 'In batch' } }, included: { Note: [note('y')] } },
      },
    ],
  });
  expect(inBatch.body.responses[0].status).toBe(201);
  expect(inBatch.body.responses[0].body.included.Note).toHaveLength(1);
});

test('OpenAPI shows the included member on the request and the answer', async () => {
  const doc = await t.http.get('/openapi.json').set('Authorization', t.auth('user'));
  const post = doc.body.paths['/common/v1/activities'].post;
  const note0 = post.requestBody.content['application/json'].schema.properties.included.properties.Note;
  expect(note0.items.properties.method.const).toBe('post');
  expect(note0.items.properties.attributes.required).toEqual(['body']);
  expect(post.responses['201'].content['application/json'].schema.properties.included).toBeDefined();
  const patch = doc.body.paths['/common/v1/activities/{activityId}'].patch;
  expect(
    patch.requestBody.content['application/json'].schema.properties.included.properties.Note.items.oneOf,
  ).toHaveLength(2);
});
