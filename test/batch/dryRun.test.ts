// Dry run (GW-DoNotCommit, SPEC §8): a write, a composite (with its selections) or a batch runs and
// answers as usual, echoes the header, then rolls back: every table is as it was, byte for byte.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity } from '../composite/helpers';
import { batch, fullSnapshot } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const DRY = { 'GW-DoNotCommit': 'true' };
const ACTIVITIES = '/rest/common/v1/activities';

/** Sends a request, and proves with full snapshots that it changed nothing. */
async function unchangedBy<T>(send: () => Promise<T>): Promise<T> {
  const before = await fullSnapshot(t);
  const res = await send();
  expect(await fullSnapshot(t)).toBe(before);
  return res;
}

test('a single POST, PATCH and DELETE answer as usual, echo the header, and change nothing', async () => {
  const res = await unchangedBy(() =>
    t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .set(DRY)
      .send({
        data: { attributes: { subject: 'Dry' } },
        included: {
          Note: [{ method: 'post', uri: '/common/v1/activities/this/notes', attributes: { body: 'dry note' } }],
        },
      }),
  );
  expect(res.status).toBe(201);
  expect(res.headers['gw-donotcommit']).toBe('true');
  expect(res.body.data.attributes.subject).toBe('Dry');
  expect(res.body.data.attributes.createTime).toEqual(expect.any(String));
  expect(res.body.included.Note[0].attributes.body).toBe('dry note');
  const id = await createActivity(t, { subject: 'Real' });
  const patched = await unchangedBy(() =>
    t.http
      .patch(`${ACTIVITIES}/${id}`)
      .set('Authorization', t.auth('user'))
      .set(DRY)
      .send({ data: { attributes: { subject: 'Dry rename' } } }),
  );
  expect(patched.status).toBe(200);
  expect(patched.body.data.attributes.subject).toBe('Dry rename');
  const deleted = await unchangedBy(() =>
    t.http.delete(`${ACTIVITIES}/${id}`).set('Authorization', t.auth('user')).set(DRY),
  );
  expect(deleted.status).toBe(204);
  expect(deleted.headers['gw-donotcommit']).toBe('true');
  // A dry run that fails answers its error as usual.
  expectError(
    await unchangedBy(() =>
      t.http
        .post(ACTIVITIES)
        .set('Authorization', t.auth('user'))
        .set(DRY)
        .send({ data: { attributes: {} } }),
    ),
    400,
  );
  // Without the header (or with false) the same request commits.
  const real = await t.http
    .post(ACTIVITIES)
    .set('Authorization', t.auth('user'))
    .set('GW-DoNotCommit', 'false')
    .send({ data: { attributes: { subject: 'Committed' } } });
  expect(real.status).toBe(201);
  expect(real.headers['gw-donotcommit']).toBeUndefined();
  expect(await t.knex('activities').where({ subject: 'Committed' })).toHaveLength(1);
});

test('an operation that cannot roll back refuses a dry run; a read runs and echoes it', async () => {
  const sync = await unchangedBy(() =>
    t.http.post('/rest/admin/v1/connectors/sync').set('Authorization', t.auth('admin')).set(DRY),
  );
  expectError(sync, 400);
  expect(sync.body.details[0].properties).toEqual({ header: 'GW-DoNotCommit', operationId: 'syncConnectors' });
  const read = await t.http.get(ACTIVITIES).set('Authorization', t.auth('reader')).set(DRY);
  expect(read.status).toBe(200);
  expect(read.headers['gw-donotcommit']).toBe('true');
});

test('a bad GW-DoNotCommit value is a 400 naming the header', async () => {
  const res = await unchangedBy(() =>
    t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .set('GW-DoNotCommit', 'yes')
      .send({ data: { attributes: { subject: 'x' } } }),
  );
  expectError(res, 400);
  expect(res.body.details[0].properties.header).toBe('GW-DoNotCommit');
});

test('a composite runs its selections inside the transaction, sees its own writes, then rolls back', async () => {
  const body = {
    requests: [
      {
        method: 'post',
        uri: '/common/v1/activities',
        body: { data: { attributes: { subject: 'Dry composite' } } },
        vars: [{ name: 'a', path: '$.data.attributes.id' }],
      },
      {
        method: 'post',
        uri: '/common/v1/activities/${a}/notes',
        body: { data: { attributes: { body: 'dry composite note' } } },
      },
    ],
    selections: [{ uri: '/common/v1/activities/${a}' }, { uri: '/common/v1/activities/${a}/notes' }],
  };
  const res = await unchangedBy(() => composite(t, body, 'user', { ...DRY, 'GW-DBTransaction-ID': 'dry-tx-1' }));
  expect(res.status).toBe(200);
  expect(res.headers['gw-donotcommit']).toBe('true');
  expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual([201, 201]);
  expect(res.body.selections[0].status).toBe(200);
  expect(res.body.selections[0].body.data.attributes.subject).toBe('Dry composite');
  expect(res.body.selections[0].body.data.attributes.createTime).toEqual(expect.any(String));
  expect(res.body.selections[1].body.data.map((n: { attributes: { body: string } }) => n.attributes.body)).toEqual([
    'dry composite note',
  ]);
  // The idempotency record was not written: the same transaction id then runs for real, once.
  const real = await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'dry-tx-1' });
  expect(real.status).toBe(200);
  expect(real.headers['gw-donotcommit']).toBeUndefined();
  expectError(
    await composite(t, body, 'user', { 'GW-DBTransaction-ID': 'dry-tx-1' }),
    400,
    'gw.api.webservice.exception.AlreadyExecutedException',
  );
});

test('a failing dry-run composite answers its failure and changes nothing', async () => {
  const res = await unchangedBy(() =>
    composite(
      t,
      {
        requests: [
          { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'never' } } } },
          { method: 'delete', uri: '/common/v1/activities/xc:999999' },
        ],
      },
      'user',
      DRY,
    ),
  );
  expect(res.status).toBe(400);
  expect(res.body.requestFailed).toBe(true);
});

test('a batch: every subrequest runs dry, each entry and the answer echo the header', async () => {
  const id = await createActivity(t, { subject: 'Batch target' });
  const res = await unchangedBy(() =>
    batch(
      t,
      {
        requests: [
          { method: 'post', path: '/activities', body: { data: { attributes: { subject: 'Dry batch' } } } },
          {
            method: 'patch',
            path: `/activities/${id}`,
            body: { data: { attributes: { subject: 'Dry batch rename' } } },
          },
          // A subrequest's own "false" does not undo the main request's dry run.
          {
            method: 'post',
            path: `/activities/${id}/notes`,
            body: { data: { attributes: { body: 'dry' } } },
            headers: [{ name: 'GW-DoNotCommit', value: 'false' }],
          },
          { method: 'get', path: '/activities', query: 'filter=subject:sw:Dry%20batch' },
        ],
      },
      { headers: DRY },
    ),
  );
  expect(res.status).toBe(200);
  expect(res.headers['gw-donotcommit']).toBe('true');
  expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual([201, 200, 201, 200]);
  for (const entry of res.body.responses)
    expect(entry.headers).toEqual(expect.arrayContaining([{ name: 'GW-DoNotCommit', value: 'true' }]));
  // Each subrequest had its own transaction: the GET does not see the POST rolled back before it.
  expect(res.body.responses[3].body.count).toBe(0);
});
