// Serialization failures and deadlocks retry the whole transaction a bounded number of times, then 503;
// checksum conflicts are never retried. The failures are forced: a test-only trigger raises SQLSTATE
// 40001 for the first N inserts (counted with a sequence, which a rollback does not rewind), and a real
// deadlock is built with a second connection the test drives by hand.
import type { Client } from 'pg';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { lockWaiters, send, session } from './helpers';

let t: TestApp;
let locker: Client;

beforeAll(async () => {
  t = await startTestApp({ DB_RETRY_LIMIT: '2' });
  locker = await session(t);
});
afterAll(async () => {
  await locker.end();
  await t.close();
});

/** Every INSERT into activities fails with 40001 until `failures` attempts have been made. */
async function failInsertsWith40001(failures: number): Promise<void> {
  await t.knex.raw('CREATE SEQUENCE test_attempts');
  await t.knex.raw(`CREATE FUNCTION test_fail_first() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('test_attempts') <= TG_ARGV[0]::int THEN
        RAISE EXCEPTION 'forced serialization failure' USING ERRCODE = 'serialization_failure';
      END IF;
      RETURN NEW;
    END $$`);
  await t.knex.raw(
    `CREATE TRIGGER test_fail_first BEFORE INSERT ON activities FOR EACH ROW EXECUTE FUNCTION test_fail_first('${failures}')`,
  );
}

/** How many INSERTs into activities were attempted (committed or not). */
async function attempts(): Promise<number> {
  const { rows } = await t.knex.raw('SELECT last_value, is_called FROM test_attempts');
  return rows[0].is_called ? Number(rows[0].last_value) : 0;
}

afterEach(async () => {
  await t.knex.raw('DROP TRIGGER IF EXISTS test_fail_first ON activities');
  await t.knex.raw('DROP FUNCTION IF EXISTS test_fail_first()');
  await t.knex.raw('DROP SEQUENCE IF EXISTS test_attempts');
  await t.knex.raw('DROP TRIGGER IF EXISTS test_count_updates ON activities');
  await t.knex.raw('DROP FUNCTION IF EXISTS test_count_updates()');
  await t.knex.raw('DROP SEQUENCE IF EXISTS test_updates');
});

const composite = (body: object) =>
  t.http.post('/rest/composite/v1/composite').set('Authorization', t.auth('user')).send(body);

async function createActivity(subject: string): Promise<{ id: string; numeric: number }> {
  const res = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject } } });
  expect(res.status).toBe(201);
  return { id: res.body.data.attributes.id, numeric: Number(res.body.data.attributes.id.split(':')[1]) };
}

test('a composite that hits a serialization failure is retried whole and commits once, with the ids it showed', async () => {
  await failInsertsWith40001(1);
  const res = await composite({
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Retried' } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: 'after the retry' } } },
      },
    ],
  });
  expect(res.status).toBe(200);
  expect(await attempts()).toBe(2);
  const shown = res.body.responses[0].body.data.attributes.id;
  const rows = await t.knex('activities').where({ subject: 'Retried' });
  expect(rows).toHaveLength(1);
  expect(`xc:${rows[0].id}`).toBe(shown);
  expect(await t.knex('notes').where({ activity_id: rows[0].id }).count({ n: '*' })).toEqual([{ n: 1 }]);
});

test('a plain POST that hits a serialization failure is retried too', async () => {
  await failInsertsWith40001(1);
  const res = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'Plain retried' } } });
  expect(res.status).toBe(201);
  expect(await attempts()).toBe(2);
});

test('after DB_RETRY_LIMIT retries the client gets 503 with Retry-After and nothing is committed', async () => {
  await failInsertsWith40001(1000);
  const res = await composite({
    requests: [{ method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'Never' } } } }],
  });
  expect(res.status).toBe(503);
  expect(res.body.errorCode).toBe('gw.api.rest.exception.ServiceUnavailableException');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(await attempts()).toBe(3);
  expect(await t.knex('activities').where({ subject: 'Never' })).toHaveLength(0);
});

test('a checksum conflict found by the UPDATE itself is a 409 and is not retried', async () => {
  const { id, numeric } = await createActivity('Contested');
  // Count the app's UPDATE statements on activities, including ones that match no row.
  await t.knex.raw('CREATE SEQUENCE test_updates');
  await t.knex.raw(`CREATE FUNCTION test_count_updates() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('application_name') = 'composite-api-server' THEN PERFORM nextval('test_updates'); END IF;
      RETURN NULL;
    END $$`);
  await t.knex.raw(
    'CREATE TRIGGER test_count_updates BEFORE UPDATE ON activities FOR EACH STATEMENT EXECUTE FUNCTION test_count_updates()',
  );
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [numeric]);
  const pending = send(
    composite({
      requests: [
        {
          method: 'patch',
          uri: `/common/v1/activities/${id}`,
          body: { data: { attributes: { subject: 'Mine' }, checksum: '0' } },
        },
      ],
    }),
  );
  await lockWaiters(locker, 1);
  // Someone else's change commits first: the composite's UPDATE … WHERE checksum = 0 now matches nothing.
  await locker.query("UPDATE activities SET subject = 'Theirs', checksum = checksum + 1 WHERE id = $1", [numeric]);
  await locker.query('COMMIT');
  const res = await pending;
  expect(res.status).toBe(400);
  expect(res.body.responses[0].requestError.status).toBe(409);
  expect(res.body.responses[0].requestError.errorCode).toBe('gw.api.rest.exception.ChecksumMismatchException');
  const { rows } = await t.knex.raw('SELECT last_value FROM test_updates');
  expect(Number(rows[0].last_value)).toBe(1);
  expect((await t.knex('activities').where({ id: numeric }).first()).subject).toBe('Theirs');
});

test('a real deadlock (40P01) between a composite and another session is retried and the composite commits', async () => {
  const a = await createActivity('Deadlock A');
  const b = await createActivity('Deadlock B');
  // This session waits long before checking for deadlocks, so the composite's backend (default 1s)
  // is the one PostgreSQL picks to abort. Needs a superuser, as the test database user is.
  await locker.query("SET deadlock_timeout = '60s'");
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [b.numeric]);
  const pending = send(
    composite({
      requests: [
        {
          method: 'patch',
          uri: `/common/v1/activities/${a.id}`,
          body: { data: { attributes: { description: 'first A' }, checksum: '0' } },
        },
        {
          method: 'patch',
          uri: `/common/v1/activities/${b.id}`,
          body: { data: { attributes: { description: 'then B' }, checksum: '0' } },
        },
      ],
    }),
  );
  // The composite holds A and waits for B; now wait for A: a cycle.
  await lockWaiters(locker, 1);
  // Returns only once the composite's transaction has been aborted (releasing A): it cannot commit while waiting for B.
  await locker.query('SELECT id FROM activities WHERE id = $1 FOR UPDATE', [a.numeric]);
  await locker.query('ROLLBACK');
  await locker.query('RESET deadlock_timeout');
  const res = await pending;
  expect(res.status).toBe(200);
  const rows = await t.knex('activities').whereIn('id', [a.numeric, b.numeric]).orderBy('id');
  expect(rows.map((r) => [r.description, r.checksum])).toEqual([
    ['first A', 1],
    ['then B', 1],
  ]);
});
