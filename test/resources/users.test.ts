// Users under /rest/admin/v1/users over HTTP: admin only, passwords write-only and stored as scrypt
// hashes, unique usernames, roles and `active` taking effect at once, and deletes refused while referenced.
import { startTestApp, basic, type TestApp } from '../helpers/testApp';
import { verifyPassword } from '../../src/model/passwords';
import { expectError } from '../api/expectError';

let t: TestApp;
const USERS = '/rest/admin/v1/users';

beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
});
afterAll(async () => {
  await t.close();
});

function expectNoPassword(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/password|scrypt\$/i);
}

async function createUser(attributes: Record<string, unknown>) {
  return t.http.post(USERS).set('Authorization', t.auth('admin')).send({ data: { attributes } });
}

describe('users', () => {
  it('creates a user: 201 with Location and GW-Checksum, default roles, no password; the hash is scrypt', async () => {
    const res = await createUser({ username: 'bob', displayName: 'Bob Builder', password: 'bob-password-1' });
    expect(res.status).toBe(201);
    const a = res.body.data.attributes;
    expect(a).toMatchObject({ username: 'bob', displayName: 'Bob Builder', roles: ['user'], active: true });
    expect(a.id).toMatch(/^xc:\d+$/);
    expect(res.headers.location).toBe(`/admin/v1/users/${a.id}`);
    expect(res.headers['gw-checksum']).toBe('0');
    expectNoPassword(res.body);
    const row = await t.knex('users').where({ username: 'bob' }).first();
    expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]{20,}\$[A-Za-z0-9+/=]{40,}$/);
    expect(row.password_hash).not.toContain('bob-password-1');
    expect(await verifyPassword('bob-password-1', row.password_hash)).toBe(true);
    expect(await verifyPassword('bob-password-2', row.password_hash)).toBe(false);
    // the same password twice gives two different hashes (salted)
    await createUser({ username: 'bob2', password: 'bob-password-1' });
    expect((await t.knex('users').where({ username: 'bob2' }).first()).password_hash).not.toBe(row.password_hash);
    // the new user can sign in
    const me = await t.http.get('/rest/common/v1/activities').set('Authorization', basic('bob', 'bob-password-1'));
    expect(me.status).toBe(200);
  });

  it('never returns passwords from GET, list, or PATCH', async () => {
    const list = await t.http.get(`${USERS}?fields=*all&pageSize=100`).set('Authorization', t.auth('admin'));
    expect(list.status).toBe(200);
    expect(list.body.count).toBeGreaterThanOrEqual(3);
    expectNoPassword(list.body);
    const one = await t.http.get(`${USERS}/${t.ids.user}?fields=*all`).set('Authorization', t.auth('admin'));
    expect(one.status).toBe(200);
    expect(one.headers['gw-checksum']).toBe(one.body.data.checksum);
    expect(one.body.data.attributes).toMatchObject({ username: 'alice', roles: ['user'], active: true });
    expectNoPassword(one.body);
    expectError(await t.http.get(`${USERS}/${t.ids.user}?fields=password`).set('Authorization', t.auth('admin')), 400);
    expectError(await t.http.get(`${USERS}?sort=password`).set('Authorization', t.auth('admin')), 400);
  });

  it('refuses bad users with 400 and a duplicate username with 409, creating nothing', async () => {
    expectError(await createUser({ username: 'nopw' }), 400);
    expectError(await createUser({ username: 'shortpw', password: 'short' }), 400);
    expectError(await createUser({ username: 'bad name', password: 'long-enough-1' }), 400);
    expectError(await createUser({ username: 'r1', password: 'long-enough-1', roles: ['superuser'] }), 400);
    expectError(await createUser({ username: 'r2', password: 'long-enough-1', roles: [] }), 400);
    expectError(await createUser({ username: 'r3', password: 'long-enough-1', roles: ['user', 'user'] }), 400);
    expectError(await createUser({ username: 'r4', password: 'long-enough-1', active: 'yes' }), 400);
    expectError(await createUser({ username: 'r5', password: 'long-enough-1', id: 'xc:77' }), 400);
    const dup = expectError(await createUser({ username: 'alice', password: 'another-password' }), 409);
    expect(dup.body.errorCode).toBe('gw.api.rest.exception.ConflictException');
    const [{ n }] = await t
      .knex('users')
      .whereIn('username', ['nopw', 'shortpw', 'bad name', 'r1', 'r2', 'r3', 'r4', 'r5'])
      .count({ n: '*' });
    expect(Number(n)).toBe(0);
    expect(await t.knex('users').where({ username: 'alice' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('is admin only: 403 for user and reader on every users endpoint', async () => {
    for (const who of ['user', 'reader'] as const) {
      expectError(await t.http.get(USERS).set('Authorization', t.auth(who)), 403);
      expectError(await t.http.get(`${USERS}/${t.ids.user}`).set('Authorization', t.auth(who)), 403);
      expectError(
        await t.http
          .post(USERS)
          .set('Authorization', t.auth(who))
          .send({ data: { attributes: { username: 'x', password: 'xxxxxxxx1' } } }),
        403,
      );
      expectError(
        await t.http
          .patch(`${USERS}/${t.ids.user}`)
          .set('Authorization', t.auth(who))
          .send({ data: { attributes: { displayName: 'x' } } }),
        403,
      );
      expectError(await t.http.delete(`${USERS}/${t.ids.reader}`).set('Authorization', t.auth(who)), 403);
    }
    expect((await t.knex('users').where({ username: 'rita' }).first()).display_name).toBe('Rita Reader');
  });

  it('changing a password, roles or active takes effect on the next request', async () => {
    const created = await createUser({ username: 'carol', password: 'carol-password-1', roles: ['user'] });
    const id = created.body.data.attributes.id;
    const carol = basic('carol', 'carol-password-1');
    const post = (auth: string) =>
      t.http
        .post('/rest/common/v1/activities')
        .set('Authorization', auth)
        .send({ data: { attributes: { subject: 'by carol' } } });
    expect((await post(carol)).status).toBe(201);

    const demoted = await t.http
      .patch(`${USERS}/${id}`)
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { roles: ['reader'] }, checksum: '0' } });
    expect(demoted.status).toBe(200);
    expect(demoted.body.data.attributes.roles).toEqual(['reader']);
    expectNoPassword(demoted.body);
    expectError(await post(carol), 403);

    const inactive = await t.http
      .patch(`${USERS}/${id}`)
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { active: false } } });
    expect(inactive.body.data.attributes.active).toBe(false);
    const refused = expectError(await t.http.get('/rest/common/v1/activities').set('Authorization', carol), 401);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic /);

    await t.http
      .patch(`${USERS}/${id}`)
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { active: true, roles: ['user'], password: 'carol-password-2' } } });
    expectError(await post(carol), 401);
    expect((await post(basic('carol', 'carol-password-2'))).status).toBe(201);
    expectError(
      await t.http
        .patch(`${USERS}/${id}`)
        .set('Authorization', t.auth('admin'))
        .send({ data: { attributes: { password: 'short' } } }),
      400,
    );
    expectError(
      await t.http
        .patch(`${USERS}/${id}`)
        .set('Authorization', t.auth('admin'))
        .send({ data: { attributes: { username: 'alice' } } }),
      409,
    );
  });

  it('refuses to delete a user an activity or note still refers to (409, nothing deleted); deletes one that is free', async () => {
    const referenced = await createUser({ username: 'dave', password: 'dave-password-1' });
    const id = referenced.body.data.attributes.id;
    const act = await t.http
      .post('/rest/common/v1/activities')
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'for dave', assignedUser: { id } } } });
    expect(act.status).toBe(201);
    const conflict = expectError(await t.http.delete(`${USERS}/${id}`).set('Authorization', t.auth('admin')), 409);
    expect(conflict.body.errorCode).toBe('gw.api.rest.exception.ConflictException');
    expect((await t.http.get(`${USERS}/${id}`).set('Authorization', t.auth('admin'))).status).toBe(200);

    const author = await createUser({ username: 'erin', password: 'erin-password-1' });
    const note = await t.http
      .post(`/rest/common/v1/activities/${act.body.data.attributes.id}/notes`)
      .set('Authorization', basic('erin', 'erin-password-1'))
      .send({ data: { attributes: { body: 'by erin' } } });
    expect(note.status).toBe(201);
    expectError(
      await t.http.delete(`${USERS}/${author.body.data.attributes.id}`).set('Authorization', t.auth('admin')),
      409,
    );

    const free = await createUser({ username: 'frank', password: 'frank-password-1' });
    const freeId = free.body.data.attributes.id;
    expectError(
      await t.http.delete(`${USERS}/${freeId}`).set('Authorization', t.auth('admin')).set('GW-Checksum', '4'),
      409,
    );
    expect(
      (await t.http.delete(`${USERS}/${freeId}`).set('Authorization', t.auth('admin')).set('GW-Checksum', '0')).status,
    ).toBe(204);
    expectError(await t.http.get(`${USERS}/${freeId}`).set('Authorization', t.auth('admin')), 404);
    expectError(
      await t.http.get('/rest/common/v1/activities').set('Authorization', basic('frank', 'frank-password-1')),
      401,
    );
  });
});
