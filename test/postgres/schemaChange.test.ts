// A migration run by another instance (a rolling deploy) changes a table under a running server: its
// prepared statements go stale (PostgreSQL 0A000) and are prepared again — reads and writes keep working.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
// One pooled connection, so the statements prepared before the change are surely the ones used after it.
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_MAX: '1' });
});
afterAll(async () => t.close());

test('GET, PATCH and a composite all succeed after a column is added to their table', async () => {
  const user = t.auth('user');
  const created = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', user)
    .send({ data: { attributes: { subject: 'Before' } } });
  const uri = `/rest/common/v1/activities/${created.body.data.attributes.id}`;
  expect((await t.http.get(uri).set('Authorization', user)).status).toBe(200);
  expect(
    (
      await t.http
        .patch(uri)
        .set('Authorization', user)
        .send({ data: { attributes: { subject: 'Patched' }, checksum: '0' } })
    ).status,
  ).toBe(200);

  await t.knex.raw('ALTER TABLE activities ADD COLUMN added_by_a_later_release text');

  const read = await t.http.get(uri).set('Authorization', user);
  expect(read.status).toBe(200);
  expect(read.body.data.attributes.subject).toBe('Patched');
  const patched = await t.http
    .patch(uri)
    .set('Authorization', user)
    .send({ data: { attributes: { subject: 'After' }, checksum: '1' } });
  expect(patched.status).toBe(200);
  await t.knex.raw('ALTER TABLE activities ADD COLUMN and_another text');
  const composite = await t.http
    .post('/rest/composite/v1/composite')
    .set('Authorization', user)
    .send({
      requests: [
        {
          method: 'patch',
          uri: uri.slice('/rest'.length),
          body: { data: { attributes: { subject: 'Composite' }, checksum: '2' } },
        },
      ],
    });
  expect(composite.status).toBe(200);
  expect((await t.knex('activities').where({ subject: 'Composite' })).length).toBe(1);
});
