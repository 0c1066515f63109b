// Activities and their notes over HTTP: envelopes, typekeys, references, ids, Location and GW-Checksum,
// the assign/complete actions, checksum conflicts (nothing changes), and delete cascading to notes.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';

let t: TestApp;
const COMMON = '/rest/common/v1';

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const ID = /^xc:[1-9][0-9]*$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function createActivity(attributes: Record<string, unknown>, who: 'user' | 'admin' = 'user') {
  const res = await t.http
    .post(`${COMMON}/activities`)
    .set('Authorization', t.auth(who))
    .send({ data: { attributes } });
  expect(res.status).toBe(201);
  return res;
}

describe('activities', () => {
  it('creates an activity with defaults, typekeys, references, Location and GW-Checksum', async () => {
    const res = await createActivity({
      subject: 'Call the insured',
      description: 'about the claim',
      priority: { code: 'high' },
      dueDate: '2030-05-17',
      assignedUser: { id: t.ids.reader },
    });
    const data = res.body.data;
    expect(data.attributes.id).toMatch(ID);
    expect(res.headers.location).toBe(`/common/v1/activities/${data.attributes.id}`);
    expect(res.headers['gw-checksum']).toBe(data.checksum);
    expect(data.checksum).toBe('0');
    expect(data.attributes).toMatchObject({
      subject: 'Call the insured',
      priority: { code: 'high', name: 'High' },
      status: { code: 'open', name: 'Open' },
      dueDate: '2030-05-17',
      assignedUser: { id: t.ids.reader, displayName: 'Rita Reader' },
      assignedByUser: { id: t.ids.user, displayName: 'Alice User' },
    });
    // description is not in the default field set
    expect(data.attributes.description).toBeUndefined();
    expect(data.attributes.createTime).toMatch(ISO);
    expect(data.attributes.updateTime).toBe(data.attributes.createTime);
    expect(data.links.self).toEqual({
      href: `/common/v1/activities/${data.attributes.id}`,
      methods: ['get', 'patch', 'delete'],
    });
    expect(data.links.assign.href).toBe(`/common/v1/activities/${data.attributes.id}/assign`);
    expect(data.links.notes).toEqual({
      href: `/common/v1/activities/${data.attributes.id}/notes`,
      methods: ['get', 'post'],
    });

    const minimal = await createActivity({ subject: 'Defaults only' });
    expect(minimal.body.data.attributes.priority).toEqual({ code: 'normal', name: 'Normal' });
    expect(minimal.body.data.attributes.assignedUser).toBeUndefined();
    expect(minimal.body.data.attributes.assignedByUser).toBeUndefined();
    expect(Number(minimal.body.data.attributes.id.slice(3))).toBeGreaterThan(Number(data.attributes.id.slice(3)));
  });

  it('reads one activity with fields=*all, a list, and the default set', async () => {
    const { body } = await createActivity({ subject: 'Read me', description: 'long text' });
    const id = body.data.attributes.id;
    const def = await t.http.get(`${COMMON}/activities/${id}`).set('Authorization', t.auth('reader'));
    expect(def.status).toBe(200);
    expect(def.headers['gw-checksum']).toBe('0');
    expect(def.body.data.attributes.description).toBeUndefined();
    const all = await t.http.get(`${COMMON}/activities/${id}?fields=*all`).set('Authorization', t.auth('reader'));
    expect(all.body.data.attributes.description).toBe('long text');
    const some = await t.http
      .get(`${COMMON}/activities/${id}?fields=subject,description`)
      .set('Authorization', t.auth('reader'));
    expect(Object.keys(some.body.data.attributes).sort()).toEqual(['description', 'id', 'subject']);
    expect(some.headers['gw-checksum']).toBe('0');
    const created = await t.http
      .post(`${COMMON}/activities?fields=subject`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'x' } } });
    expect(Object.keys(created.body.data.attributes).sort()).toEqual(['id', 'subject']);
    expectError(
      await t.http.get(`${COMMON}/activities/${id}?fields=subject,nope`).set('Authorization', t.auth('reader')),
      400,
    );
  });

  it('patches with a body checksum, bumps the checksum, and refuses a stale one with 409 changing nothing', async () => {
    const { body } = await createActivity({ subject: 'Before' });
    const id = body.data.attributes.id;
    expectError(
      await t.http
        .patch(`${COMMON}/activities/${id}?fields=nope`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: 'Unknown field asked' } } }),
      400,
    );
    const ok = await t.http
      .patch(`${COMMON}/activities/${id}?fields=*all`)
      .set('Authorization', t.auth('user'))
      .send({
        data: { attributes: { subject: 'After', priority: { code: 'urgent' }, dueDate: '2031-01-02' }, checksum: '0' },
      });
    expect(ok.status).toBe(200);
    expect(ok.body.data.checksum).toBe('1');
    expect(ok.headers['gw-checksum']).toBe('1');
    expect(ok.body.data.attributes).toMatchObject({
      subject: 'After',
      priority: { code: 'urgent', name: 'Urgent' },
      dueDate: '2031-01-02',
    });
    expect(ok.body.data.attributes.updateTime >= ok.body.data.attributes.createTime).toBe(true);

    const stale = await t.http
      .patch(`${COMMON}/activities/${id}`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'Lost update' }, checksum: '0' } });
    expectError(stale, 409);
    expect(stale.body.details[0].properties).toEqual({
      uri: `/common/v1/activities/${id}`,
      currentChecksum: '1',
      suppliedChecksum: '0',
    });
    const staleHeader = await t.http
      .patch(`${COMMON}/activities/${id}`)
      .set('Authorization', t.auth('user'))
      .set('GW-Checksum', '0')
      .send({ data: { attributes: { subject: 'Lost update' } } });
    expect(expectError(staleHeader, 409).body.details[0].properties).toEqual({
      uri: `/common/v1/activities/${id}`,
      currentChecksum: '1',
      suppliedChecksum: '0',
    });
    const after = await t.http.get(`${COMMON}/activities/${id}`).set('Authorization', t.auth('user'));
    expect(after.body.data.attributes.subject).toBe('After');
    expect(after.body.data.checksum).toBe('1');

    // whoever sets assignedUser becomes assignedByUser; clearing it clears both
    const assigned = await t.http
      .patch(`${COMMON}/activities/${id}`)
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { assignedUser: { id: t.ids.reader } } } });
    expect(assigned.body.data.attributes).toMatchObject({
      assignedUser: { id: t.ids.reader },
      assignedByUser: { id: t.ids.admin, displayName: 'Administrator' },
    });
    const unassigned = await t.http
      .patch(`${COMMON}/activities/${id}`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { assignedUser: null } } });
    expect(unassigned.body.data.attributes.assignedUser).toBeUndefined();
    expect(unassigned.body.data.attributes.assignedByUser).toBeUndefined();
    expect(unassigned.body.data.checksum).toBe('3');
    // without a checksum the update is unconditional; null clears an optional attribute
    const cleared = await t.http
      .patch(`${COMMON}/activities/${id}`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { dueDate: null } } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data.attributes.dueDate).toBeUndefined();
    expect(cleared.body.data.checksum).toBe('4');
  });

  it('refuses read-only and unknown attributes, bad values and missing subject', async () => {
    const { body } = await createActivity({ subject: 'Strict' });
    const id = body.data.attributes.id;
    const write = (attributes: Record<string, unknown>) =>
      t.http.post(`${COMMON}/activities`).set('Authorization', t.auth('user')).send({ data: { attributes } });
    const status = expectError(await write({ subject: 's', status: { code: 'complete' } }), 400);
    expect(JSON.stringify(status.body.details)).toContain('status');
    expectError(await write({ subject: 's', assignedByUser: { id: t.ids.user } }), 400);
    const unknown = expectError(await write({ subject: 's', colour: 'red' }), 400);
    expect(unknown.body.userMessage).toContain('colour');
    const missing = expectError(await write({ description: 'no subject' }), 400);
    expect(missing.body.userMessage).toContain('subject');
    expectError(await write({ subject: '' }), 400);
    expectError(await write({ subject: 'x'.repeat(256) }), 400);
    expectError(await write({ subject: 5 }), 400);
    expectError(await write({ subject: 's', priority: 'high' }), 400);
    expectError(await write({ subject: 's', priority: { code: 'enormous' } }), 400);
    expectError(await write({ subject: 's', dueDate: '2030-02-30' }), 400);
    expectError(await write({ subject: 's', dueDate: 'tomorrow' }), 400);
    const ghost = expectError(await write({ subject: 's', assignedUser: { id: 'xc:999999' } }), 400);
    expect(ghost.body.userMessage).toContain('assignedUser');
    expectError(await write({ subject: 's', assignedUser: { id: 'nope' } }), 400);
    expectError(
      await t.http
        .post(`${COMMON}/activities`)
        .set('Authorization', t.auth('user'))
        .send({ attributes: { subject: 'no envelope' } }),
      400,
    );
    expectError(
      await t.http
        .post(`${COMMON}/activities`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: 's' }, extra: 1 } }),
      400,
    );
    expectError(
      await t.http
        .patch(`${COMMON}/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: {} } }),
      400,
    );
    // only optional attributes may be cleared with null
    expectError(
      await t.http
        .patch(`${COMMON}/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: null } } }),
      400,
    );
    expectError(
      await t.http
        .patch(`${COMMON}/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { priority: null } } }),
      400,
    );
    expectError(
      await t.http
        .patch(`${COMMON}/activities/${id}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: 'x' }, checksum: 0 } }),
      400,
    );
    expect(
      (await t.http.get(`${COMMON}/activities/${id}`).set('Authorization', t.auth('user'))).body.data.checksum,
    ).toBe('0');
    const [{ n }] = await t.knex('activities').where({ subject: 's' }).count({ n: '*' });
    expect(Number(n)).toBe(0);
  });

  it('answers 404 in the error shape for unknown and malformed ids', async () => {
    for (const id of ['xc:999999', 'xc:0', 'yy:1', 'garbage', 'xc:1x']) {
      const res = expectError(
        await t.http.get(`${COMMON}/activities/${encodeURIComponent(id)}`).set('Authorization', t.auth('user')),
        404,
      );
      expect(res.body.errorCode).toBe('gw.api.rest.exception.NotFoundException');
    }
    expectError(
      await t.http
        .patch(`${COMMON}/activities/xc:999999`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { subject: 'x' } } }),
      404,
    );
    expectError(await t.http.delete(`${COMMON}/activities/xc:999999`).set('Authorization', t.auth('user')), 404);
    expectError(await t.http.post(`${COMMON}/activities/xc:999999/complete`).set('Authorization', t.auth('user')), 404);
    expectError(await t.http.get(`${COMMON}/activities/xc:999999/notes`).set('Authorization', t.auth('user')), 404);
    expectError(
      await t.http
        .post(`${COMMON}/activities/xc:999999/notes`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { body: 'b' } } }),
      404,
    );
  });

  it('assigns with the assign action: assignedByUser is the caller; a stale GW-Checksum is a 409', async () => {
    const { body } = await createActivity({ subject: 'To assign' });
    const id = body.data.attributes.id;
    const stale = await t.http
      .post(`${COMMON}/activities/${id}/assign`)
      .set('Authorization', t.auth('admin'))
      .set('GW-Checksum', '7')
      .send({ data: { attributes: { assignedUser: { id: t.ids.user } } } });
    expectError(stale, 409);
    expect(stale.body.details[0].properties).toEqual({
      uri: `/common/v1/activities/${id}`,
      currentChecksum: '0',
      suppliedChecksum: '7',
    });
    expect(
      (
        await t
          .knex('activities')
          .where({ id: Number(id.slice(3)) })
          .first()
      ).assigned_user_id,
    ).toBeNull();

    const ok = await t.http
      .post(`${COMMON}/activities/${id}/assign`)
      .set('Authorization', t.auth('admin'))
      .set('GW-Checksum', '0')
      .send({ data: { attributes: { assignedUser: { id: t.ids.user } } } });
    expect(ok.status).toBe(200);
    expect(ok.headers['gw-checksum']).toBe('1');
    expect(ok.body.data.attributes.assignedUser).toMatchObject({ id: t.ids.user, displayName: 'Alice User' });
    expect(ok.body.data.attributes.assignedByUser).toMatchObject({ id: t.ids.admin, displayName: 'Administrator' });

    expectError(
      await t.http
        .post(`${COMMON}/activities/${id}/assign`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: {} } }),
      400,
    );
    expectError(
      await t.http
        .post(`${COMMON}/activities/${id}/assign`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { assignedUser: { id: 'xc:999999' } } } }),
      400,
    );
    expectError(
      await t.http
        .post(`${COMMON}/activities/${id}/assign`)
        .set('Authorization', t.auth('reader'))
        .send({ data: { attributes: { assignedUser: { id: t.ids.user } } } }),
      403,
    );
  });

  it('completes with the complete action, once, honouring GW-Checksum', async () => {
    const { body } = await createActivity({ subject: 'To complete' });
    const id = body.data.attributes.id;
    const stale = expectError(
      await t.http
        .post(`${COMMON}/activities/${id}/complete`)
        .set('Authorization', t.auth('user'))
        .set('GW-Checksum', '3'),
      409,
    );
    expect(stale.body.details[0].properties).toEqual({
      uri: `/common/v1/activities/${id}`,
      currentChecksum: '0',
      suppliedChecksum: '3',
    });
    expect(
      (
        await t
          .knex('activities')
          .where({ id: Number(id.slice(3)) })
          .first()
      ).status,
    ).toBe('open');
    expectError(
      await t.http.post(`${COMMON}/activities/${id}/complete?fields=nope`).set('Authorization', t.auth('user')),
      400,
    );
    const ok = await t.http
      .post(`${COMMON}/activities/${id}/complete?fields=status`)
      .set('Authorization', t.auth('user'))
      .set('GW-Checksum', '0');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.data.attributes).sort()).toEqual(['id', 'status']);
    expect(ok.headers['gw-checksum']).toBe('1');
    expect(ok.body.data.attributes.status).toEqual({ code: 'complete', name: 'Complete' });
    expectError(await t.http.post(`${COMMON}/activities/${id}/complete`).set('Authorization', t.auth('user')), 400);
    expectError(
      await t.http
        .post(`${COMMON}/activities/${id}/assign`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { assignedUser: { id: t.ids.user } } } }),
      400,
    );
    expectError(
      await t.http
        .post(`${COMMON}/activities/${id}/complete`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: {} } }),
      400,
    );
  });

  it('deletes with GW-Checksum: a stale one is a 409 and keeps the activity; deleting removes its notes', async () => {
    const { body } = await createActivity({ subject: 'With notes' });
    const id = body.data.attributes.id;
    const n1 = await t.http
      .post(`${COMMON}/activities/${id}/notes`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { body: 'one' } } });
    const n2 = await t.http
      .post(`${COMMON}/activities/${id}/notes`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { body: 'two' } } });
    expect([n1.status, n2.status]).toEqual([201, 201]);
    const stale = expectError(
      await t.http.delete(`${COMMON}/activities/${id}`).set('Authorization', t.auth('user')).set('GW-Checksum', '5'),
      409,
    );
    expect(stale.body.details[0].properties).toEqual({
      uri: `/common/v1/activities/${id}`,
      currentChecksum: '0',
      suppliedChecksum: '5',
    });
    expect((await t.http.get(`${COMMON}/activities/${id}`).set('Authorization', t.auth('user'))).status).toBe(200);
    expectError(await t.http.delete(`${COMMON}/activities/${id}`).set('Authorization', t.auth('reader')), 403);

    const del = await t.http
      .delete(`${COMMON}/activities/${id}`)
      .set('Authorization', t.auth('user'))
      .set('GW-Checksum', '0');
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expectError(await t.http.get(`${COMMON}/activities/${id}`).set('Authorization', t.auth('user')), 404);
    expectError(
      await t.http.get(`${COMMON}/notes/${n1.body.data.attributes.id}`).set('Authorization', t.auth('user')),
      404,
    );
    const [{ n }] = await t
      .knex('notes')
      .where({ activity_id: Number(id.slice(3)) })
      .count({ n: '*' });
    expect(Number(n)).toBe(0);
    // deleting without a checksum is unconditional
    const other = await createActivity({ subject: 'Plain delete' });
    expect(
      (
        await t.http
          .delete(`${COMMON}/activities/${other.body.data.attributes.id}`)
          .set('Authorization', t.auth('user'))
      ).status,
    ).toBe(204);
  });
});

describe('notes', () => {
  let activityId: string;
  beforeAll(async () => {
    activityId = (await createActivity({ subject: 'Has notes' })).body.data.attributes.id;
  });

  it('creates a note under an activity: author is the caller, relatedTo the activity', async () => {
    const res = await t.http
      .post(`${COMMON}/activities/${activityId}/notes`)
      .set('Authorization', t.auth('user'))
      .send({
        data: {
          attributes: { subject: 'First', body: 'First call made', topic: { code: 'legal' }, confidential: true },
        },
      });
    expect(res.status).toBe(201);
    const a = res.body.data.attributes;
    expect(a.id).toMatch(ID);
    expect(res.headers.location).toBe(`/common/v1/notes/${a.id}`);
    expect(res.headers['gw-checksum']).toBe('0');
    expect(a).toMatchObject({
      subject: 'First',
      body: 'First call made',
      topic: { code: 'legal', name: 'Legal' },
      confidential: true,
      relatedTo: { id: activityId, type: 'Activity' },
      author: { id: t.ids.user, displayName: 'Alice User' },
    });
    expect(a.createTime).toMatch(ISO);
    const byAdmin = await t.http
      .post(`${COMMON}/activities/${activityId}/notes`)
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { body: 'by admin' } } });
    expect(byAdmin.body.data.attributes.author.id).toBe(t.ids.admin);
    expect(byAdmin.body.data.attributes.confidential).toBe(false);
    expect(byAdmin.body.data.attributes.topic).toBeUndefined();
  });

  it('refuses author, relatedTo, a missing body and bad values', async () => {
    const post = (attributes: Record<string, unknown>) =>
      t.http
        .post(`${COMMON}/activities/${activityId}/notes`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes } });
    expectError(await post({ body: 'b', author: { id: t.ids.admin } }), 400);
    expectError(await post({ body: 'b', relatedTo: { id: activityId } }), 400);
    expectError(await post({ subject: 'no body' }), 400);
    expectError(await post({ body: 'b', confidential: 'yes' }), 400);
    expectError(await post({ body: 'b', topic: { code: 'gossip' } }), 400);
    expectError(
      await t.http
        .post(`${COMMON}/activities/${activityId}/notes`)
        .set('Authorization', t.auth('reader'))
        .send({ data: { attributes: { body: 'b' } } }),
      403,
    );
  });

  it('lists the notes of one activity only, and gets, patches and deletes a note by id', async () => {
    const other = (await createActivity({ subject: 'Other' })).body.data.attributes.id;
    await t.http
      .post(`${COMMON}/activities/${other}/notes`)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { body: 'elsewhere' } } });
    const list = await t.http.get(`${COMMON}/activities/${activityId}/notes`).set('Authorization', t.auth('reader'));
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(2);
    expect(
      list.body.data.every(
        (d: { attributes: { relatedTo: { id: string } } }) => d.attributes.relatedTo.id === activityId,
      ),
    ).toBe(true);
    expect(list.body.links.self.href).toBe(`/common/v1/activities/${activityId}/notes`);
    const related = await t.http
      .get(
        `${COMMON}/activities/${activityId}/notes?filter=relatedTo:eq:${activityId}&filter=author:eq:${t.ids.user}&sort=-createTime`,
      )
      .set('Authorization', t.auth('reader'));
    expect(related.body.count).toBe(1);
    expect(
      (
        await t.http
          .get(`${COMMON}/activities/${activityId}/notes?filter=relatedTo:eq:${other}`)
          .set('Authorization', t.auth('reader'))
      ).body.count,
    ).toBe(0);
    const filtered = await t.http
      .get(`${COMMON}/activities/${activityId}/notes?filter=topic:eq:legal&filter=confidential:eq:true`)
      .set('Authorization', t.auth('reader'));
    expect(filtered.body.count).toBe(1);
    expect(filtered.body.links.self.href).toBe(
      `/common/v1/activities/${activityId}/notes?filter=topic%3Aeq%3Alegal&filter=confidential%3Aeq%3Atrue`,
    );

    const noteId = list.body.data[0].attributes.id;
    const one = await t.http.get(`${COMMON}/notes/${noteId}`).set('Authorization', t.auth('reader'));
    expect(one.status).toBe(200);
    expect(one.headers['gw-checksum']).toBe(one.body.data.checksum);
    expect(one.body.data.links.self).toEqual({
      href: `/common/v1/notes/${noteId}`,
      methods: ['get', 'patch', 'delete'],
    });

    const stale = expectError(
      await t.http
        .patch(`${COMMON}/notes/${noteId}`)
        .set('Authorization', t.auth('user'))
        .send({ data: { attributes: { body: 'changed' }, checksum: '9' } }),
      409,
    );
    expect(stale.body.details[0].properties).toEqual({
      uri: `/common/v1/notes/${noteId}`,
      currentChecksum: '0',
      suppliedChecksum: '9',
    });
    const patched = await t.http
      .patch(`${COMMON}/notes/${noteId}`)
      .set('Authorization', t.auth('admin'))
      .send({
        data: { attributes: { body: 'changed', topic: { code: 'medical' }, confidential: false }, checksum: '0' },
      });
    expect(patched.status).toBe(200);
    expect(patched.headers['gw-checksum']).toBe('1');
    // the author stays the note's creator, whoever edits it
    expect(patched.body.data.attributes).toMatchObject({
      body: 'changed',
      topic: { code: 'medical' },
      confidential: false,
      author: { id: t.ids.user },
    });

    expectError(
      await t.http.delete(`${COMMON}/notes/${noteId}`).set('Authorization', t.auth('user')).set('GW-Checksum', '0'),
      409,
    );
    expect(
      (await t.http.delete(`${COMMON}/notes/${noteId}`).set('Authorization', t.auth('user')).set('GW-Checksum', '1'))
        .status,
    ).toBe(204);
    expectError(await t.http.get(`${COMMON}/notes/${noteId}`).set('Authorization', t.auth('user')), 404);
    expect(
      (await t.http.get(`${COMMON}/activities/${activityId}/notes`).set('Authorization', t.auth('reader'))).body.count,
    ).toBe(1);
  });
});
