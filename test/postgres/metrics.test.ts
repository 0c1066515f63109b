// PostgreSQL: a transaction tried again after a serialization failure shows in /metrics as a retry,
// and the pool's numbers are the pool's. The failure is forced: a trigger raises SQLSTATE 40001 for the
// first insert only (a sequence counts, and a rollback does not rewind it).
import { parsePrometheus, valueOf } from '../helpers/prometheus';
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ DB_POOL_MAX: '4' });
});
afterAll(() => t.close());

const scrape = async () => parsePrometheus((await t.http.get('/metrics').set('Authorization', t.auth('admin'))).text);

test('a retried transaction is counted in db_transaction_retries_total and commits once', async () => {
  await t.knex.raw(`CREATE SEQUENCE metrics_attempts;
    CREATE FUNCTION metrics_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF nextval('metrics_attempts') = 1 THEN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER metrics_fail_once BEFORE INSERT ON activities FOR EACH ROW EXECUTE FUNCTION metrics_fail_once()`);
  const before = await scrape();
  const res = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes: { subject: 'retried' } } });
  expect(res.status).toBe(201);
  const after = await scrape();
  expect(valueOf(after, 'db_transaction_retries_total') - valueOf(before, 'db_transaction_retries_total')).toBe(1);
  const committed = { outcome: 'committed' };
  expect(
    valueOf(after, 'db_transaction_duration_seconds_count', committed) -
      valueOf(before, 'db_transaction_duration_seconds_count', committed),
  ).toBe(1);
  expect(valueOf(after, 'db_pool_connections', { state: 'max' })).toBe(4);
  expect(
    valueOf(after, 'db_pool_connections', { state: 'used' }) + valueOf(after, 'db_pool_connections', { state: 'free' }),
  ).toBeGreaterThanOrEqual(1);
});
