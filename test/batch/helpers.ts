// Helpers shared by the batch, inclusion, dry-run and unknown-element tests: send a batch, and take a
// snapshot of every table of the database to prove a call changed nothing.
import type { TestApp, Who } from '../helpers/testApp';

export const BATCH = '/rest/common/v1/batch';

export function batch(
  t: TestApp,
  body: unknown,
  opts: { who?: Who; headers?: Record<string, string>; path?: string; query?: string } = {},
) {
  const req = t.http
    .post(`${opts.path ?? BATCH}${opts.query ? `?${opts.query}` : ''}`)
    .set('Authorization', t.auth(opts.who ?? 'user'));
  for (const [k, v] of Object.entries(opts.headers ?? {})) req.set(k, v);
  return req.send(body as object);
}

async function tableNames(t: TestApp): Promise<string[]> {
  if (t.config.database.kind === 'sqlite') {
    const rows = await t.knex('sqlite_master').select('name').where('type', 'table');
    return rows.map((r: { name: string }) => r.name);
  }
  const rows = await t
    .knex('information_schema.tables')
    .select('table_name')
    .where({ table_schema: 'public', table_type: 'BASE TABLE' });
  return rows.map((r: { table_name: string }) => r.table_name);
}

/** Every row of every table (sorted, so the order rows come back in does not matter). */
export async function fullSnapshot(t: TestApp): Promise<string> {
  const out: Record<string, string[]> = {};
  for (const table of (await tableNames(t)).sort()) {
    const rows = await t.knex(table).select('*');
    out[table] = rows.map((r: unknown) => JSON.stringify(r)).sort();
  }
  return JSON.stringify(out);
}
