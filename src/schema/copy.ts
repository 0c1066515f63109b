// Owns copying a server's data between databases: every row of the tables it keeps and the id sequences
// (which ones: src/storedData.ts), into a fresh database — SQLite → PostgreSQL, back, or between
// servers. The command line is src/cli/copyData.ts.
import type { Knex } from 'knex';
import { peekNextId, setNextId } from '../db/sequences';
import { isSqlite } from '../db/knex';
import { MIGRATIONS, migrateLatest } from './migrate';

/** What a server stores. */
export interface StoredData {
  /** In foreign-key order. `seeded`: the migration writes rows of its own, which the copy replaces. */
  tables: ReadonlyArray<{ name: string; seeded?: boolean }>;
  /** Each id sequence and the table whose ids it hands out. */
  sequences: ReadonlyArray<{ sequence: string; table: string }>;
}
const BATCH_ROWS = 500;

export class CopyError extends Error {
  override name = 'CopyError';
}

export type CopyReport = Record<string, number>;

async function appliedMigrations(knex: Knex): Promise<string[]> {
  if (!(await knex.schema.hasTable('knex_migrations'))) return [];
  return (await knex('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name);
}

async function count(h: Knex | Knex.Transaction, table: string): Promise<number> {
  const [{ n }] = await h(table).count({ n: '*' });
  return Number(n);
}

/** Booleans bind as true/false on PostgreSQL and as 1/0 on SQLite, whichever side they came from. */
async function booleanColumns(write: Knex.Transaction, table: string): Promise<string[]> {
  const info = await write(table).columnInfo();
  return Object.entries(info)
    .filter(([, c]) => c.type === 'boolean')
    .map(([name]) => name);
}

function convert(rows: Record<string, unknown>[], booleans: string[], toSqlite: boolean): Record<string, unknown>[] {
  if (booleans.length === 0) return rows;
  return rows.map((row) => {
    const out = { ...row };
    for (const column of booleans) {
      if (out[column] === null || out[column] === undefined) continue;
      const value = out[column] === true || out[column] === 1 || out[column] === '1';
      out[column] = toSqlite ? (value ? 1 : 0) : value;
    }
    return out;
  });
}

async function copyTable(
  read: Knex.Transaction,
  write: Knex.Transaction,
  toSqlite: boolean,
  table: string,
): Promise<number> {
  // Through the transaction: SQLite's pool has one connection, and the transaction holds it.
  const booleans = await booleanColumns(write, table);
  const key = 'id';
  let copied = 0;
  let after: unknown;
  for (;;) {
    const page = read(table).orderBy(key).limit(BATCH_ROWS);
    if (after !== undefined) page.where(key, '>', after as Knex.Value);
    const rows: Record<string, unknown>[] = await page;
    if (rows.length === 0) return copied;
    await write(table).insert(convert(rows, booleans, toSqlite));
    copied += rows.length;
    after = rows[rows.length - 1][key];
  }
}

/**
 * Copies `source` into `target`. The target is migrated first and must hold no data; the source
 * must be at the same migration as this code (run `npm run migrate` on it first). Everything is
 * read from one snapshot of the source and written in one transaction: all or nothing.
 */
export async function copyData(source: Knex, target: Knex, stored: StoredData): Promise<CopyReport> {
  const known = MIGRATIONS.map(([name]) => name);
  const sourceMigrations = await appliedMigrations(source);
  if (sourceMigrations.join(',') !== known.join(',')) {
    throw new CopyError(
      `the source database is at migrations [${sourceMigrations.join(', ')}], this server expects [${known.join(', ')}]; migrate the source first (npm run migrate with its DATABASE_URL)`,
    );
  }
  await migrateLatest(target);
  for (const { name, seeded } of stored.tables) {
    if (!seeded && (await count(target, name)) > 0)
      throw new CopyError(`the target database already holds ${name}; copy only into a fresh database`);
  }
  const report: CopyReport = {};
  const snapshot: Knex.TransactionConfig | undefined = isSqlite(source)
    ? undefined
    : { isolationLevel: 'repeatable read', readOnly: true };
  await source.transaction(async (read) => {
    await target.transaction(async (write) => {
      for (const { name, seeded } of stored.tables) {
        if (seeded) await write(name).delete();
        report[name] = await copyTable(read, write, isSqlite(target), name);
      }
      for (const { sequence, table } of stored.sequences) {
        // Never hand out an id the source already showed, even one a rolled-back composite reserved.
        const [{ max }] = await write(table).max({ max: 'id' });
        const next = Math.max(await peekNextId(read, sequence), Number(max ?? 0) + 1);
        await setNextId(write, sequence, next);
        report[`${sequence} next id`] = next;
      }
    });
  }, snapshot);
  return report;
}
