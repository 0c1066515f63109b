// All or nothing: a failing subrequest anywhere rolls back every earlier one and runs no selection.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { composite, createActivity, snapshot } from './helpers';

let t: TestApp;
let activityId: string;
beforeAll(async () => {
  t = await startTestApp();
  activityId = await createActivity(t, { subject: 'Existing' });
});
afterAll(async () => t.close());

const newActivity = (subject: string) => ({
  method: 'post',
  uri: '/common/v1/activities',
  body: { data: { attributes: { subject } } },
});
const badNote = {
  method: 'post',
  uri: '/common/v1/activities/xc:999999/notes',
  body: { data: { attributes: { body: 'orphan' } } },
};

async function expectRolledBack(
  body: { requests: unknown[]; selections?: unknown[] },
  failedAt: number,
  status: number,
  who: 'user' | 'admin' | 'reader' = 'user',
) {
  const before = await snapshot(t);
  const res = await composite(t, body, who);
  expect(res.status).toBe(400);
  expect(res.body.requestFailed).toBe(true);
  expect(res.body.responses).toHaveLength(body.requests.length);
  res.body.responses
    .slice(0, failedAt)
    .forEach((r: { status: number }) => expect(r.status).toBeGreaterThanOrEqual(200));
  const failed = res.body.responses[failedAt].requestError;
  expect(failed.status).toBe(status);
  expect(failed).toEqual(
    expect.objectContaining({
      errorCode: expect.any(String),
      userMessage: expect.any(String),
      developerMessage: expect.any(String),
      details: expect.any(Array),
    }),
  );
  res.body.responses.slice(failedAt + 1).forEach((r: unknown) => expect(r).toEqual({ skipped: true }));
  expect(res.body.selections).toEqual((body.selections ?? []).map(() => ({ skipped: true })));
  expect(res.headers['server-timing']).toContain('total;dur=');
  expect(await snapshot(t)).toBe(before);
  return res;
}

test('failure at the first subrequest (404 parent) rolls back and skips the rest', async () => {
  await expectRolledBack(
    {
      requests: [badNote, newActivity('never 1'), newActivity('never 2')],
      selections: [{ uri: '/common/v1/activities' }],
    },
    0,
    404,
  );
});

test('failure in the middle (validation: unknown attribute) rolls back the earlier writes', async () => {
  const res = await expectRolledBack(
    {
      requests: [
        newActivity('kept?'),
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'x', colour: 'red' } } },
        },
        newActivity('never'),
      ],
    },
    1,
    400,
  );
  expect(res.body.responses[1].requestError.details[0].message).toContain('colour');
  // The earlier entry is reported as it was, with an id that is now never reused.
  expect(res.body.responses[0].status).toBe(201);
});

test('failure at the last subrequest (409 checksum) rolls back everything', async () => {
  await expectRolledBack(
    {
      requests: [
        newActivity('a'),
        newActivity('b'),
        {
          method: 'patch',
          uri: `/common/v1/activities/${activityId}`,
          body: { data: { attributes: { subject: 'changed' }, checksum: '42' } },
        },
      ],
    },
    2,
    409,
  );
  expect(
    (
      await t
        .knex('activities')
        .where({ id: Number(activityId.split(':')[1]) })
        .first()
    ).subject,
  ).toBe('Existing');
});

test('a 403 inside a composite rolls back: a user cannot create users through a composite', async () => {
  await expectRolledBack(
    {
      requests: [
        newActivity('first'),
        {
          method: 'post',
          uri: '/admin/v1/users',
          body: { data: { attributes: { username: 'mallory', password: 'password123' } } },
        },
      ],
    },
    1,
    403,
  );
});

test('a reader cannot write through a composite', async () => {
  await expectRolledBack({ requests: [newActivity('by a reader')] }, 0, 403, 'reader');
});

test('a constraint violation (duplicate username) rolls back', async () => {
  await expectRolledBack(
    {
      requests: [
        {
          method: 'post',
          uri: '/admin/v1/users',
          body: { data: { attributes: { username: 'dup', password: 'password123' } } },
        },
        {
          method: 'post',
          uri: '/admin/v1/users',
          body: { data: { attributes: { username: 'dup', password: 'password123' } } },
        },
      ],
    },
    1,
    409,
    'admin',
  );
});

test('a var path that matches nothing fails that subrequest, naming the var and path', async () => {
  const res = await expectRolledBack(
    {
      requests: [
        { ...newActivity('v'), vars: [{ name: 'nothing', path: '$.data.attributes.noSuchField' }] },
        newActivity('never'),
      ],
    },
    0,
    400,
  );
  expect(res.body.responses[0].requestError.details[0].properties).toEqual({
    var: 'nothing',
    path: '$.data.attributes.noSuchField',
  });
});

test('ids shown by a rolled-back composite are never reused', async () => {
  const failed = await composite(t, { requests: [newActivity('ghost'), badNote] });
  const ghostId = failed.body.responses[0].body.data.attributes.id;
  const ok = await composite(t, { requests: [newActivity('real')] });
  expect(ok.status).toBe(200);
  const realId = ok.body.responses[0].body.data.attributes.id;
  expect(realId).not.toBe(ghostId);
  expect(Number(realId.split(':')[1])).toBeGreaterThan(Number(ghostId.split(':')[1]));
});

test('a failing selection is reported in its own entry; the writes commit and other selections run', async () => {
  const res = await composite(t, {
    requests: [{ ...newActivity('committed'), vars: [{ name: 'id', path: '$.data.attributes.id' }] }],
    selections: [
      { uri: '/common/v1/activities/xc:999999' },
      { uri: '/common/v1/activities/${id}' },
      { uri: '/admin/v1/users' },
    ],
  });
  expect(res.status).toBe(200);
  expect(res.body.selections[0].status).toBe(404);
  expect(res.body.selections[0].body.errorCode).toBe('gw.api.rest.exception.NotFoundException');
  expect(res.body.selections[1].status).toBe(200);
  expect(res.body.selections[2].status).toBe(403);
  expect(await t.knex('activities').where({ subject: 'committed' }).first()).toBeDefined();
});

test('a parent created and then deleted in the same composite is gone for a later note: 404, all rolled back', async () => {
  const res = await expectRolledBack(
    {
      requests: [
        {
          ...newActivity('short-lived'),
          vars: [
            { name: 'a', path: '$.data.attributes.id' },
            { name: 'sum', path: '$.data.checksum' },
          ],
        },
        {
          method: 'post',
          uri: '/common/v1/activities/${a}/notes',
          body: { data: { attributes: { body: 'while it lives' } } },
        },
        { method: 'delete', uri: '/common/v1/activities/${a}', headers: { 'GW-Checksum': '${sum}' } },
        {
          method: 'post',
          uri: '/common/v1/activities/${a}/notes',
          body: { data: { attributes: { body: 'after it is gone' } } },
        },
      ],
    },
    3,
    404,
  );
  expect(res.body.responses[1].status).toBe(201);
  expect(res.body.responses[2].status).toBe(204);
});

describe("inserts written behind (SQLite runs a composite's inserts together, before the next read and before the commit)", () => {
  const newUser = (username: string) => ({
    method: 'post',
    uri: '/admin/v1/users',
    body: { data: { attributes: { username, password: 'password123' } } },
  });
  beforeAll(async () => {
    const res = await composite(t, { requests: [newUser('taken')] }, 'admin');
    expect(res.status).toBe(200);
  });

  test('an earlier insert that fails is the failure reported, even when a later subrequest fails first in JavaScript', async () => {
    const res = await expectRolledBack(
      {
        requests: [
          newUser('taken'),
          {
            method: 'post',
            uri: '/common/v1/activities',
            body: { data: { attributes: { subject: 'x', colour: 'red' } } },
          },
          newActivity('never'),
        ],
      },
      0,
      409,
      'admin',
    );
    expect(res.body.responses[1]).toEqual({ skipped: true });
    expect(res.headers['server-timing']).not.toContain('req.1;');
  });

  test('an earlier insert that fails when a later subrequest reads is reported at its own subrequest', async () => {
    await expectRolledBack(
      {
        requests: [
          newActivity('first'),
          newUser('taken'),
          {
            method: 'patch',
            uri: `/common/v1/activities/${activityId}`,
            body: { data: { attributes: { subject: 'changed' } } },
          },
          newActivity('never'),
        ],
      },
      1,
      409,
      'admin',
    );
    expect(
      (
        await t
          .knex('activities')
          .where({ id: Number(activityId.split(':')[1]) })
          .first()
      ).subject,
    ).toBe('Existing');
  });

  test('a later subrequest reads what earlier ones wrote; the queued inserts have their own Server-Timing entry', async () => {
    const res = await composite(t, {
      requests: [
        {
          ...newActivity('written behind'),
          vars: [
            { name: 'a', path: '$.data.attributes.id' },
            { name: 'sum', path: '$.data.checksum' },
          ],
        },
        { method: 'post', uri: '/common/v1/activities/${a}/notes', body: { data: { attributes: { body: 'queued' } } } },
        {
          method: 'patch',
          uri: '/common/v1/activities/${a}',
          body: { data: { attributes: { subject: 'read back' }, checksum: '${sum}' } },
        },
        {
          method: 'post',
          uri: '/common/v1/activities/${a}/notes',
          body: { data: { attributes: { body: 'after the read' } } },
        },
      ],
      selections: [{ uri: '/common/v1/activities/${a}/notes' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.responses[2].body.data.attributes.subject).toBe('read back');
    expect(
      res.body.selections[0].body.data.map((n: { attributes: { body: string } }) => n.attributes.body).sort(),
    ).toEqual(['after the read', 'queued']);
    expect(res.headers['server-timing']).toMatch(
      /req\.3;dur=[\d.]+, writes;dur=[\d.]+;desc="Queued inserts", commit;dur=/,
    );
    // Microseconds: entries of a few µs each must not round to nothing when a client sums them.
    const durations = [...res.headers['server-timing'].matchAll(/;dur=([^;,]*)/g)].map((m) => m[1]);
    expect(durations).toHaveLength(8); // req.0–3, writes, commit, sel.0, total
    for (const d of durations) expect(d).toMatch(/^\d+\.\d{3}$/);
  });
});
