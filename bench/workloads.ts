// Owns what the bench writes and reads straight through the driver: the floor (the rows a composite of
// N writes, in one transaction), the 100,000-activity bulk load, and the selection's own SQL run directly.
import { createKnex } from '../src/db/knex';
import { parseDatabaseUrl } from '../src/config';
import { listCollection } from '../src/query/collection';
import type { CollectionQuery } from '../src/query/params';
import { activityResource } from '../src/resources/activities/definition';
import { idCodec } from '../src/model/publicIds';
import { ACTIVITY_SUBJECT, noteText } from './client';
import type { Driver } from './database';

/** Ids the bench writes itself stay far above the server's sequences. */
const FLOOR_ID_BASE = 1_000_000_000;
const BULK_ID_BASE = 2_000_000_000;

const INSERT_ACTIVITY =
  'INSERT INTO activities (checksum, create_time, id, priority, status, subject, update_time) VALUES (?, ?, ?, ?, ?, ?, ?)';
const INSERT_NOTE =
  'INSERT INTO notes (activity_id, author_id, body, checksum, confidential, create_time, id, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * The statements of one composite's rows: its activity, then a note per text, with the columns the
 * server writes. The notes' ids run on from the activity's.
 */
export function compositeRows(
  kind: Driver['kind'],
  authorId: number,
  activityId: number,
  activity: { subject: unknown; priority: string },
  notes: readonly unknown[],
): Array<readonly [string, readonly unknown[]]> {
  const now = new Date().toISOString();
  const falsy = kind === 'sqlite' ? 0 : false;
  const statements: Array<readonly [string, readonly unknown[]]> = [
    [INSERT_ACTIVITY, [0, now, activityId, activity.priority, 'open', activity.subject, now]],
  ];
  for (let i = 0; i < notes.length; i++)
    statements.push([INSERT_NOTE, [activityId, authorId, notes[i], 0, falsy, now, activityId + 1 + i, now]]);
  return statements;
}

/** The rows of one composite of N (1 activity + N−1 notes), written by prepared statements in one transaction. */
export function floorWriter(driver: Driver, authorId: number): (n: number) => Promise<void> {
  let nextId = FLOOR_ID_BASE;
  return (n) => {
    const notes = Array.from({ length: n - 1 }, (_, i) => noteText(i + 1));
    const statements = compositeRows(
      driver.kind,
      authorId,
      nextId + 1,
      { subject: ACTIVITY_SUBJECT, priority: 'high' },
      notes,
    );
    nextId += n;
    return driver.writeAll(statements);
  };
}

const PRIORITIES = ['urgent', 'high', 'normal', 'low'];

/** Loads `count` activities with spread priorities and due dates, as fast as the driver allows. */
export async function bulkLoadActivities(driver: Driver, count: number): Promise<void> {
  const now = new Date().toISOString();
  if (driver.kind === 'postgres') {
    await driver.run(
      `INSERT INTO activities (id, subject, priority, status, due_date, checksum, create_time, update_time)
       SELECT ${BULK_ID_BASE} + i, 'Bulk activity ' || i, (ARRAY['urgent','high','normal','low'])[1 + (i * 7) % 4], 'open',
              to_char(DATE '2024-01-01' + ((i * 7919) % 730), 'YYYY-MM-DD'), 0, ?, ?
       FROM generate_series(1, ?) AS i`,
      [now, now, count],
    );
    await driver.run('ANALYZE activities');
    return;
  }
  const sql =
    'INSERT INTO activities (id, subject, priority, status, due_date, checksum, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
  const day0 = Date.UTC(2024, 0, 1);
  const statements: Array<readonly [string, readonly unknown[]]> = [];
  for (let i = 1; i <= count; i++) {
    const due = new Date(day0 + ((i * 7919) % 730) * 86400000).toISOString().slice(0, 10);
    statements.push([sql, [BULK_ID_BASE + i, `Bulk activity ${i}`, PRIORITIES[(i * 7) % 4], 'open', due, 0, now, now]]);
  }
  await driver.writeAll(statements);
}

/** The selection the bench times: filtered, sorted, paged, with the total. */
export const SELECTION: Required<CollectionQuery> = {
  fields: 'subject,dueDate,priority',
  filter: ['priority:in:high,urgent', 'dueDate:ge:2025-01-01'],
  sort: ['-dueDate'],
  pageSize: 25,
  pageOffset: 100,
  includeTotal: true,
};

export function selectionComposite(): string {
  return JSON.stringify({ selections: [{ uri: '/common/v1/activities', parameters: SELECTION }] });
}

export interface CapturedQuery {
  sql: string;
  bindings: unknown[];
}

/**
 * The exact SQL the server runs for SELECTION: the server's own collection code is run once here on a
 * knex of the same database, and the statements it sends are recorded (then replayed on the driver).
 */
export async function captureSelectionSql(databaseUrl: string): Promise<CapturedQuery[]> {
  const knex = createKnex(parseDatabaseUrl(databaseUrl));
  const captured: CapturedQuery[] = [];
  knex.on('query', (q: { sql: string; bindings?: unknown[] }) =>
    captured.push({ sql: q.sql.replace(/\$\d+/g, '?'), bindings: q.bindings ?? [] }),
  );
  try {
    await listCollection(knex, activityResource, SELECTION, { ids: idCodec('xc'), path: '/common/v1/activities' });
  } finally {
    await knex.destroy();
  }
  return captured;
}

/** Runs the captured statements in order (page, then total), as the server does. */
export function directSelection(driver: Driver, queries: CapturedQuery[]): () => Promise<void> {
  return async () => {
    for (const q of queries) await driver.all(q.sql, q.bindings);
  };
}

/** Whether a plan line shows an index serving the query. */
export function usesIndex(plan: string[]): boolean {
  return plan.some((line) => /USING (COVERING )?INDEX|Index (Only )?Scan|Bitmap Index Scan/i.test(line));
}
