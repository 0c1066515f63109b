// Variables over HTTP: JSON typing of a whole-string reference, text inside longer strings,
// a uri var stays in its one segment, vars in selections and parameters.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { composite } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

test('a string that is exactly ${name} keeps the JSON type; inside a longer string it is text', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Typed' } } },
        vars: [
          { name: 'activityId', path: '$.data.attributes.id' },
          { name: 'checksum', path: '$.data.checksum' },
        ],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${activityId}/notes',
        body: { data: { attributes: { body: 'Secret', confidential: true } } },
        vars: [
          { name: 'conf', path: '$.data.attributes.confidential' },
          { name: 'related', path: '$.data.attributes.relatedTo' },
        ],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${activityId}/notes',
        body: {
          data: {
            attributes: {
              body: 'About ${activityId} (checksum ${checksum}), related ${related}',
              confidential: '${conf}',
            },
          },
        },
      },
    ],
  });
  expect(res.status).toBe(200);
  const third = res.body.responses[2].body.data.attributes;
  const activityId = res.body.responses[0].body.data.attributes.id;
  expect(third.confidential).toBe(true); // a boolean, not "true"
  expect(third.body).toBe(
    `About ${activityId} (checksum 0), related {"id":"${activityId}","type":"Activity","uri":"/common/v1/activities/${activityId}"}`,
  );
});

test('a whole-string var with the wrong JSON type fails validation of that subrequest', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'x' } } },
        vars: [{ name: 'links', path: '$.data.links' }],
      },
      { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: '${links}' } } } },
    ],
  });
  expect(res.status).toBe(400);
  expect(res.body.responses[1].requestError.userMessage).toMatch(/subject must be string/);
});

test('an object var rendered whole is a copy: dropping its unknown members later leaves the subresponse it came from whole', async () => {
  const res = await composite(
    t,
    {
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'Parent' } } },
          vars: [{ name: 'activityId', path: '$.data.attributes.id' }],
        },
        {
          method: 'post',
          uri: '/common/v1/activities/${activityId}/notes',
          body: { data: { attributes: { body: 'first' } } },
          vars: [{ name: 'author', path: '$.data.attributes.author' }],
        },
        // The whole author object as a reference to write: validation drops its unknown members (type,
        // displayName, uri) from the body it was rendered into, in place.
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'Assigned', assignedUser: '${author}' } } },
        },
      ],
    },
    'user',
    { 'GW-UnknownPropertyHandling': 'ignore' },
  );
  expect(res.status).toBe(200);
  const author = res.body.responses[1].body.data.attributes.author;
  expect(Object.keys(author).sort()).toEqual(['displayName', 'id', 'type', 'uri']);
  expect(res.body.responses[2].body.data.attributes.assignedUser).toEqual({
    id: author.id,
    displayName: author.displayName,
    type: 'User',
    uri: author.uri,
  });
});

test('a var in a uri becomes that one path parameter: a value with / or .. cannot change the route', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: '../../admin/v1/users' } } },
        vars: [{ name: 'evil', path: '$.data.attributes.subject' }],
      },
      { method: 'post', uri: '/common/v1/activities/${evil}/notes', body: { data: { attributes: { body: 'x' } } } },
    ],
  });
  expect(res.status).toBe(400);
  expect(res.body.responses[1].requestError.status).toBe(404);
  expect(res.body.responses[1].requestError.userMessage).toContain('No Activity with id ../../admin/v1/users');
});

test('vars work in selections, uris and parameters, bracket paths and array indexes included', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Findable subject' } } },
        vars: [
          { name: 'id', path: "$['data']['attributes']['id']" },
          { name: 'subject', path: '$.data.attributes.subject' },
          { name: 'firstMethod', path: '$.data.links.self.methods[0]' },
        ],
      },
      {
        method: 'patch',
        uri: '/common/v1/activities/${id}',
        body: { data: { attributes: { description: 'first method was ${firstMethod}' } } },
        parameters: { fields: '*all' },
      },
    ],
    selections: [
      {
        uri: '/common/v1/activities',
        parameters: { filter: ['subject:eq:${subject}'], fields: 'subject,description' },
      },
      { uri: '/common/v1/activities/${id}/notes' },
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.responses[1].body.data.attributes.description).toBe('first method was get');
  expect(res.body.responses[1].body.data.checksum).toBe('1');
  expect(res.body.selections[0].body.data).toHaveLength(1);
  expect(res.body.selections[0].body.data[0].attributes.description).toBe('first method was get');
  expect(res.body.selections[1].body.count).toBe(0);
});

test('delete, assign and complete inside one composite, with checksums carried in vars', async () => {
  const res = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Lifecycle' } } },
        vars: [{ name: 'id', path: '$.data.attributes.id' }],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${id}/notes',
        body: { data: { attributes: { body: 'temporary' } } },
        vars: [{ name: 'noteId', path: '$.data.attributes.id' }],
      },
      { method: 'delete', uri: '/common/v1/notes/${noteId}' },
      {
        method: 'post',
        uri: '/common/v1/activities/${id}/assign',
        body: { data: { attributes: { assignedUser: { id: t.ids.reader } } } },
        vars: [{ name: 'cs', path: '$.data.checksum' }],
      },
      { method: 'post', uri: '/common/v1/activities/${id}/complete' },
    ],
    selections: [{ uri: '/common/v1/activities/${id}', parameters: { fields: 'status,assignedUser,assignedByUser' } }],
  });
  expect(res.status).toBe(200);
  expect(res.body.responses[2]).toEqual({ headers: {}, status: 204 });
  const final = res.body.selections[0].body.data.attributes;
  expect(final.status.code).toBe('complete');
  expect(final.assignedUser.id).toBe(t.ids.reader);
  expect(final.assignedByUser.id).toBe(t.ids.user);
  expect(res.body.selections[0].body.data.checksum).toBe('2');
});

test('GW-Checksum per subrequest (for DELETE and actions), from a var; a stale one is a 409 that rolls back', async () => {
  const ok = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Checksummed' } } },
        vars: [
          { name: 'id', path: '$.data.attributes.id' },
          { name: 'cs', path: '$.data.checksum' },
        ],
      },
      { method: 'post', uri: '/common/v1/activities/${id}/complete', headers: { 'GW-Checksum': '${cs}' } },
      { method: 'delete', uri: '/common/v1/activities/${id}', headers: { 'GW-Checksum': '1' } },
    ],
  });
  expect(ok.status).toBe(200);
  expect(ok.body.responses[2].status).toBe(204);

  const stale = await composite(t, {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Stale' } } },
        vars: [{ name: 'id', path: '$.data.attributes.id' }],
      },
      { method: 'delete', uri: '/common/v1/activities/${id}', headers: { 'GW-Checksum': '7' } },
    ],
  });
  expect(stale.status).toBe(400);
  expect(stale.body.responses[1].requestError.status).toBe(409);
  expect(stale.body.responses[1].requestError.details[0].properties).toMatchObject({
    currentChecksum: '0',
    suppliedChecksum: '7',
  });
  expect(await t.knex('activities').where({ subject: 'Stale' }).first()).toBeUndefined();

  const badHeader = await composite(t, {
    requests: [{ method: 'delete', uri: '/common/v1/activities/xc:1', headers: { Authorization: 'x' } }],
  });
  expect(badHeader.status).toBe(400);
  expect(badHeader.body.userMessage).toMatch(/Unknown member "Authorization"/);
});
