// On PostgreSQL a composite's inserts are written behind as multi-row INSERTs: at the end, with its
// COMMIT in one round trip (values as literals); before a read in the middle, as prepared statements.
// Counted with a statement-level trigger (it fires once per INSERT statement, however many rows it
// writes); a batch that fails is run again row by row so the failure names its subrequest exactly.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
const COMPOSITE = '/rest/composite/v1/composite';

beforeAll(async () => {
  t = await startTestApp();
  await t.knex.raw('CREATE TABLE test_insert_statements (tbl text NOT NULL)');
  await t.knex.raw(`CREATE FUNCTION test_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_insert_statements VALUES (TG_TABLE_NAME);
      RETURN NULL;
    END $$`);
  for (const table of ['activities', 'notes', 'users']) {
    await t.knex.raw(
      `CREATE TRIGGER test_count_${table} AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION test_count_statement()`,
    );
  }
});
afterAll(async () => t.close());

async function statements(table: string): Promise<number> {
  const row = await t.knex('test_insert_statements').where({ tbl: table }).count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

const note = (body: string) => ({
  method: 'post',
  uri: '/common/v1/activities/${a}/notes',
  body: { data: { attributes: { body } } },
});

test('an activity and 98 notes are written in one INSERT statement each, every row and answer as before', async () => {
  const before = { activities: await statements('activities'), notes: await statements('notes') };
  const requests = [
    {
      method: 'post',
      uri: '/common/v1/activities',
      body: { data: { attributes: { subject: 'batched' } } },
      vars: [{ name: 'a', path: '$.data.attributes.id' }],
    },
    ...Array.from({ length: 98 }, (_, i) => note(`note ${i}`)),
  ];
  const res = await t.http
    .post(COMPOSITE)
    .set('Authorization', t.auth('user'))
    .send({ requests, selections: [{ uri: '/common/v1/activities/${a}/notes', parameters: { pageSize: 100 } }] });
  expect(res.status).toBe(200);
  expect(res.body.responses).toHaveLength(99);
  res.body.responses.forEach((r: { status: number }) => expect(r.status).toBe(201));
  expect(res.body.selections[0].body.data).toHaveLength(98);
  expect(await statements('activities')).toBe(before.activities + 1);
  // 98 rows, written with the COMMIT: one statement instead of 98.
  expect(await statements('notes')).toBe(before.notes + 1);
  const ids = res.body.responses
    .slice(1)
    .map((r: { body: { data: { attributes: { id: string } } } }) => r.body.data.attributes.id);
  const stored = await t
    .knex('notes')
    .whereIn(
      'id',
      ids.map((id: string) => Number(id.split(':')[1])),
    )
    .orderBy('id')
    .pluck('body');
  expect(stored).toEqual(Array.from({ length: 98 }, (_, i) => `note ${i}`));
});

test('a small composite writes each kind of row in one statement; ids reserved for two tables in one go come out in order', async () => {
  const before = { activities: await statements('activities'), notes: await statements('notes') };
  const requests = [
    {
      method: 'post',
      uri: '/common/v1/activities',
      body: { data: { attributes: { subject: 'small batch' } } },
      vars: [{ name: 'a', path: '$.data.attributes.id' }],
    },
    ...Array.from({ length: 9 }, (_, i) => note(`small ${i}`)),
    { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'small batch 2' } } } },
  ];
  const res = await t.http.post(COMPOSITE).set('Authorization', t.auth('user')).send({ requests });
  expect(res.status).toBe(200);
  // 9 notes: one statement (not 8 + 1); the two activities come apart, around the notes.
  expect(await statements('notes')).toBe(before.notes + 1);
  expect(await statements('activities')).toBe(before.activities + 2);
  const idOf = (r: { body: { data: { attributes: { id: string } } } }) =>
    Number(r.body.data.attributes.id.split(':')[1]);
  const noteIds = res.body.responses.slice(1, 10).map(idOf);
  expect(noteIds).toEqual([...noteIds].sort((a: number, b: number) => a - b));
  expect(new Set(noteIds).size).toBe(9);
  expect(idOf(res.body.responses[10])).toBeGreaterThan(idOf(res.body.responses[0]));
  const stored = await t.knex('notes').whereIn('id', noteIds).orderBy('id').pluck('body');
  expect(stored).toEqual(Array.from({ length: 9 }, (_, i) => `small ${i}`));
});

test('a read in the middle writes what was queued first, so it sees it', async () => {
  const res = await t.http
    .post(COMPOSITE)
    .set('Authorization', t.auth('user'))
    .send({
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'read after queued' } } },
          vars: [
            { name: 'a', path: '$.data.attributes.id' },
            { name: 'sum', path: '$.data.checksum' },
          ],
        },
        note('before the read'),
        {
          method: 'patch',
          uri: '/common/v1/activities/${a}',
          body: { data: { attributes: { subject: 'patched' }, checksum: '${sum}' } },
        },
        note('after the read'),
      ],
    });
  expect(res.status).toBe(200);
  expect(res.body.responses[2].body.data.attributes.subject).toBe('patched');
});

test('a batch that fails (at commit) is run again row by row: the failure names the subrequest, nothing is kept', async () => {
  const users = (names: string[]) =>
    names.map((username) => ({
      method: 'post',
      uri: '/admin/v1/users',
      body: { data: { attributes: { username, password: 'password123' } } },
    }));
  const before = await t.knex('users').count<{ n: string }[]>({ n: '*' }).first();
  const res = await t.http
    .post(COMPOSITE)
    .set('Authorization', t.auth('admin'))
    .send({ requests: users(['u1', 'u2', 'u3', 'u2', 'u5']) });
  expect(res.status).toBe(400);
  expect(res.body.responses.slice(0, 3).map((r: { status: number }) => r.status)).toEqual([201, 201, 201]);
  expect(res.body.responses[3].requestError.status).toBe(409);
  expect(res.body.responses[4]).toEqual({ skipped: true });
  expect(await t.knex('users').count<{ n: string }[]>({ n: '*' }).first()).toEqual(before);
  // The ids the failed composite showed are never handed out again.
  const idOf = (r: { body: { data: { attributes: { id: string } } } }) => r.body.data.attributes.id;
  const shown = res.body.responses.slice(0, 3).map(idOf);
  const next = await t.http
    .post(COMPOSITE)
    .set('Authorization', t.auth('admin'))
    .send({ requests: users(['u6']) });
  expect(next.status).toBe(200);
  expect(shown).not.toContain(idOf(next.body.responses[0]));
});
