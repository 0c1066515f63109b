// Proves authorisation has one answer per (operation, role): walks the compiled route table and, for every
// operation and every role, compares the direct request with the same operation as a composite subrequest
// or selection. Ids that do not exist keep every allowed call from changing anything.
import type { CompiledOp } from '../../src/api/dispatch';
import { ROLES, type Role } from '../../src/api/operation';
import { startTestApp, type TestApp, type Who } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity, snapshot } from '../composite/helpers';

const WHO: Record<Role, Who> = { admin: 'admin', user: 'user', reader: 'reader' };

let t: TestApp;
let missingId: string;
beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
  missingId = `${t.config.idPrefix}:999999`;
  await createActivity(t);
});
afterAll(async () => t.close());

/** The operation's path relative to /rest, every parameter an id that does not exist. */
function uriOf(c: CompiledOp): string {
  return `/${c.op.api}/v1${c.op.path.replace(/\{\w+\}/g, missingId)}`;
}

async function direct(c: CompiledOp, role: Role): Promise<number> {
  const req = t.http[c.op.method](`/rest${uriOf(c)}`).set('Authorization', t.auth(WHO[role]));
  const res = c.op.body || c.op.rawBody ? await req.send({}) : await req;
  return res.status;
}

/** Status of the operation run as the only subrequest (or selection) of a composite; undefined if refused at plan time. */
async function viaComposite(c: CompiledOp, role: Role): Promise<{ planRefused: boolean; status?: number }> {
  const uri = uriOf(c);
  const body =
    c.op.method === 'get'
      ? { selections: [{ uri }] }
      : { requests: [{ method: c.op.method, uri, ...(c.op.body ? { body: {} } : {}) }] };
  const res = await composite(t, body, WHO[role]);
  if (res.status === 400 && !res.body.requestFailed) return { planRefused: true };
  if (c.op.method === 'get') {
    expect(res.status).toBe(200);
    return { planRefused: false, status: res.body.selections[0].status };
  }
  expect(res.status).toBe(400); // nothing with a missing id can succeed
  expect(res.body.requestFailed).toBe(true);
  return { planRefused: false, status: res.body.responses[0].requestError.status };
}

test('the route table is not empty and names every role somewhere', () => {
  expect(t.operations.length).toBeGreaterThan(10);
  for (const role of ROLES) expect(t.operations.some((c) => c.op.roles.includes(role))).toBe(true);
});

test('for every operation and every role, the composite path allows exactly what the direct path allows', async () => {
  const before = await snapshot(t);
  const rows: string[] = [];
  for (const c of t.operations) {
    for (const role of ROLES) {
      const allowed = c.op.roles.includes(role);
      const directStatus = await direct(c, role);
      const name = `${role} ${c.op.method.toUpperCase()} ${uriOf(c)} (${c.op.operationId})`;
      // The direct path follows the table…
      expect({ name, forbidden: directStatus === 403 }).toEqual({ name, forbidden: !allowed });
      const sub = await viaComposite(c, role);
      if (!c.op.allowForComposite) {
        // …an operation kept out of composites is refused before anything runs, for every role…
        expect({ name, planRefused: sub.planRefused }).toEqual({ name, planRefused: true });
      } else {
        // …and as a subrequest or selection it gets the same answer.
        expect({ name, planRefused: sub.planRefused, forbidden: sub.status === 403 }).toEqual({
          name,
          planRefused: false,
          forbidden: !allowed,
        });
      }
      rows.push(`${name}: direct ${directStatus}, composite ${sub.planRefused ? 'refused' : sub.status}`);
    }
  }
  expect(rows.length).toBe(t.operations.length * ROLES.length);
  expect(await snapshot(t)).toBe(before);
});

test('a forbidden subrequest among allowed ones rolls the whole composite back', async () => {
  const before = await snapshot(t);
  const res = await composite(
    t,
    {
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: { data: { attributes: { subject: 'cover' } } },
          vars: [{ name: 'a', path: '$.data.attributes.id' }],
        },
        {
          method: 'post',
          uri: '/admin/v1/users',
          body: { data: { attributes: { username: 'mallory', password: 'mallory-pw-123', roles: ['admin'] } } },
        },
      ],
      selections: [{ uri: '/admin/v1/users' }],
    },
    'user',
  );
  expect(res.status).toBe(400);
  expect(res.body.requestFailed).toBe(true);
  expect(res.body.responses[1].requestError.status).toBe(403);
  expect(res.body.selections).toEqual([{ skipped: true }]);
  expect(await snapshot(t)).toBe(before);
});

test('a reader may run a composite, but each of its writes is refused as if sent alone', async () => {
  const before = await snapshot(t);
  const res = await composite(
    t,
    {
      requests: [
        { method: 'post', uri: '/common/v1/activities', body: { data: { attributes: { subject: 'reader write' } } } },
      ],
    },
    'reader',
  );
  expect(res.status).toBe(400);
  expect(res.body.responses[0].requestError).toMatchObject({
    status: 403,
    errorCode: 'gw.api.rest.exception.PermissionDeniedException',
  });
  expect(await snapshot(t)).toBe(before);
});

test('the composite endpoint itself cannot be nested to skip a check', async () => {
  const before = await snapshot(t);
  const res = await composite(
    t,
    {
      requests: [
        {
          method: 'post',
          uri: '/composite/v1/composite',
          body: { requests: [{ method: 'post', uri: '/admin/v1/users', body: {} }] },
        },
      ],
    },
    'user',
  );
  expectError(res, 400);
  expect(res.body.userMessage).toMatch(/not allowed in a composite/);
  expect(await snapshot(t)).toBe(before);
});
