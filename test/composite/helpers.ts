// Helpers shared by the composite tests: send a composite, count rows, snapshot tables.
import type { TestApp, Who } from '../helpers/testApp';

export const COMPOSITE = '/rest/composite/v1/composite';

export function composite(t: TestApp, body: unknown, who: Who = 'user', headers: Record<string, string> = {}) {
  const req = t.http.post(COMPOSITE).set('Authorization', t.auth(who));
  for (const [k, v] of Object.entries(headers)) req.set(k, v);
  return req.send(body as object);
}

/** Every row of the resource tables, to prove a refused or failed composite changed nothing. */
export async function snapshot(t: TestApp): Promise<string> {
  const tables = ['users', 'activities', 'notes', 'composite_transactions'];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) out[table] = await t.knex(table).select('*').orderBy('id');
  return JSON.stringify(out);
}

export async function createActivity(
  t: TestApp,
  attributes: Record<string, unknown> = { subject: 'Seed activity' },
): Promise<string> {
  const res = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .send({ data: { attributes } });
  if (res.status !== 201) throw new Error(`create failed ${res.status}`);
  return res.body.data.attributes.id as string;
}
