// Authentication and roles over HTTP (SPEC §2): 401 with WWW-Authenticate for missing or wrong
// credentials, what each role may do, and the bootstrap admin (ensureAdmin) called directly.
import { startTestApp, basic, tempSqliteUrl, type TestApp } from '../helpers/testApp';
import { loadConfig } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { migrateLatest } from '../../src/schema/migrate';
import { ensureAdmin } from '../../src/auth/bootstrap';
import * as passwords from '../../src/model/passwords';
import { verifyPassword } from '../../src/model/passwords';
import { expectError } from './expectError';

let t: TestApp;
const ACTIVITIES = '/rest/common/v1/activities';

beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
});
afterAll(async () => {
  await t.close();
});

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate for missing, malformed and wrong credentials', async () => {
    const headers: Array<string | undefined> = [
      undefined,
      basic('alice', 'wrong-password'),
      basic('nobody', 'alice-secret-pw'),
      basic('', 'alice-secret-pw'),
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('alice-no-colon').toString('base64')}`,
      'Bearer some.jwt.token',
      'Digest username="alice"',
      'alice:alice-secret-pw',
      basic('alice', 'alice-secret-pw ').replace('Basic', 'Basic  '),
    ];
    for (const header of headers) {
      const req = t.http.get(ACTIVITIES);
      const res = expectError(await (header === undefined ? req : req.set('Authorization', header)), 401);
      expect(res.body.errorCode).toBe('gw.api.rest.exception.UnauthenticatedException');
      expect(res.headers['www-authenticate']).toMatch(/Basic realm="[^"]+"/);
    }
    // every /rest endpoint and both OpenAPI documents need credentials; /healthz does not
    for (const path of [
      '/rest/admin/v1/users',
      '/rest/common/v1/notes/xc:1',
      '/rest/nothing/here',
      '/openapi.json',
      '/rest/common/v1/openapi.json',
    ]) {
      expectError(await t.http.get(path), 401);
    }
    expectError(await t.http.post(ACTIVITIES).send({ data: { attributes: { subject: 'anonymous' } } }), 401);
    expect((await t.http.get('/healthz')).status).toBe(200);
    const [{ n }] = await t.knex('activities').count({ n: '*' });
    expect(Number(n)).toBe(0);
  });

  it('accepts the right password, and usernames are exact', async () => {
    expect((await t.http.get(ACTIVITIES).set('Authorization', t.auth('user'))).status).toBe(200);
    expectError(await t.http.get(ACTIVITIES).set('Authorization', basic('Alice', 'alice-secret-pw')), 401);
    // a password with a colon in it is split at the first colon only
    const created = await t.http
      .post('/rest/admin/v1/users')
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { username: 'colon', password: 'pass:with:colons' } } });
    expect(created.status).toBe(201);
    expect((await t.http.get(ACTIVITIES).set('Authorization', basic('colon', 'pass:with:colons'))).status).toBe(200);
  });

  it('runs the password hash once for a burst of requests with the same new credentials', async () => {
    const created = await t.http
      .post('/rest/admin/v1/users')
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { username: 'burst', password: 'burst-secret-pw' } } });
    expect(created.status).toBe(201);
    const verify = jest.spyOn(passwords, 'verifyPassword');
    try {
      const statuses = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.http
            .get(ACTIVITIES)
            .set('Authorization', basic('burst', 'burst-secret-pw'))
            .then((r) => r.status),
        ),
      );
      expect(statuses).toEqual(Array(8).fill(200));
      expect(verify).toHaveBeenCalledTimes(1);
      // A wrong password is a verification of its own, and still a 401.
      expectError(await t.http.get(ACTIVITIES).set('Authorization', basic('burst', 'wrong-secret-pw')), 401);
      expect(verify).toHaveBeenCalledTimes(2);
    } finally {
      verify.mockRestore();
    }
  });
});

describe('roles', () => {
  it('reader: GET only — 403 on every write, nothing changes', async () => {
    const made = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'owned by alice' } } });
    const id = made.body.data.attributes.id;
    const r = t.auth('reader');
    expect((await t.http.get(ACTIVITIES).set('Authorization', r)).status).toBe(200);
    expect((await t.http.get(`${ACTIVITIES}/${id}`).set('Authorization', r)).status).toBe(200);
    expect((await t.http.get(`${ACTIVITIES}/${id}/notes`).set('Authorization', r)).status).toBe(200);
    expect(
      (
        await t.http
          .post('/rest/common/v1/search/activities')
          .set('Authorization', r)
          .send({ data: { attributes: {} } })
      ).status,
    ).toBe(200);
    const forbidden = expectError(
      await t.http
        .post(ACTIVITIES)
        .set('Authorization', r)
        .send({ data: { attributes: { subject: 'x' } } }),
      403,
    );
    expect(forbidden.body.errorCode).toBe('gw.api.rest.exception.PermissionDeniedException');
    expectError(
      await t.http
        .patch(`${ACTIVITIES}/${id}`)
        .set('Authorization', r)
        .send({ data: { attributes: { subject: 'x' } } }),
      403,
    );
    expectError(await t.http.delete(`${ACTIVITIES}/${id}`).set('Authorization', r), 403);
    expectError(await t.http.post(`${ACTIVITIES}/${id}/complete`).set('Authorization', r), 403);
    expectError(
      await t.http
        .post(`${ACTIVITIES}/${id}/notes`)
        .set('Authorization', r)
        .send({ data: { attributes: { body: 'x' } } }),
      403,
    );
    expectError(await t.http.get('/rest/admin/v1/users').set('Authorization', r), 403);
    // a forbidden write with a bad body is still a 403: authorisation comes before validation
    expectError(await t.http.post(ACTIVITIES).set('Authorization', r).send({ nonsense: true }), 403);
    const row = await t
      .knex('activities')
      .where({ id: Number(id.slice(3)) })
      .first();
    expect(row).toMatchObject({ subject: 'owned by alice', status: 'open', checksum: 0 });
  });

  it('user: reads and writes /common, but not /admin; admin: everything', async () => {
    const u = t.auth('user');
    const made = await t.http
      .post(ACTIVITIES)
      .set('Authorization', u)
      .send({ data: { attributes: { subject: 'user write' } } });
    expect(made.status).toBe(201);
    const id = made.body.data.attributes.id;
    expect(
      (
        await t.http
          .patch(`${ACTIVITIES}/${id}`)
          .set('Authorization', u)
          .send({ data: { attributes: { subject: 'edited' } } })
      ).status,
    ).toBe(200);
    expectError(await t.http.get('/rest/admin/v1/users').set('Authorization', u), 403);
    expectError(await t.http.get(`/rest/admin/v1/users/${t.ids.user}`).set('Authorization', u), 403);
    const a = t.auth('admin');
    expect(
      (
        await t.http
          .patch(`${ACTIVITIES}/${id}`)
          .set('Authorization', a)
          .send({ data: { attributes: { subject: 'by admin' } } })
      ).status,
    ).toBe(200);
    expect((await t.http.get('/rest/admin/v1/users').set('Authorization', a)).status).toBe(200);
    expect((await t.http.delete(`${ACTIVITIES}/${id}`).set('Authorization', a)).status).toBe(204);
  });
});

describe('bootstrap admin (ensureAdmin)', () => {
  async function freshKnex() {
    const config = loadConfig({ DATABASE_URL: tempSqliteUrl() });
    const knex = createKnex(config.database, config.db);
    await migrateLatest(knex);
    return knex;
  }

  it('generates, stores as a hash and returns a strong password when none is given, once', async () => {
    const knex = await freshKnex();
    try {
      const first = await ensureAdmin(knex, 'root', undefined);
      expect(first.created).toBe(true);
      expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const rows = await knex('users').select('*');
      expect(rows).toHaveLength(1);
      expect(rows[0].username).toBe('root');
      expect(JSON.parse(rows[0].roles)).toEqual(['admin']);
      expect(rows[0].password_hash).toMatch(/^scrypt\$/);
      expect(rows[0].password_hash).not.toContain(first.generatedPassword as string);
      expect(await verifyPassword(first.generatedPassword as string, rows[0].password_hash)).toBe(true);
      const second = await ensureAdmin(knex, 'root', undefined);
      expect(second).toEqual({ created: false, passwordNotUsed: false });
      expect(await knex('users').count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      await knex.destroy();
    }
  });

  it('uses ADMIN_PASSWORD when given and returns no password; does nothing on a database with users', async () => {
    const knex = await freshKnex();
    try {
      const made = await ensureAdmin(knex, 'boss', 'boss-password-1');
      expect(made).toEqual({ created: true, generatedPassword: undefined });
      const row = await knex('users').where({ username: 'boss' }).first();
      expect(await verifyPassword('boss-password-1', row.password_hash)).toBe(true);
      expect(await ensureAdmin(knex, 'other', 'other-password-1')).toEqual({ created: false, passwordNotUsed: true });
      expect(await knex('users').where({ username: 'other' }).first()).toBeUndefined();
    } finally {
      await knex.destroy();
    }
    // the test app's admin was created the same way and signs in
    expect((await t.http.get('/rest/admin/v1/users').set('Authorization', t.auth('admin'))).status).toBe(200);
  });
});
