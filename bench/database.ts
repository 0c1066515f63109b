// Owns the bench's database: a scratch one (src/db/scratchDatabase.ts) — a temporary SQLite file, or a
// PostgreSQL database created for the run and dropped after it — plus a direct driver connection to it
// (better-sqlite3 or pg), no knex.
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { SQLITE_PRAGMAS } from '../src/db/knex';
import { freshPostgresDatabase, freshSqliteDatabase, type FreshDatabase } from '../src/db/scratchDatabase';

/** A connection straight to the driver: `?` placeholders on both kinds, statements prepared once. */
export interface Driver {
  kind: 'sqlite' | 'postgres';
  all<T>(sql: string, bindings?: readonly unknown[]): Promise<T[]>;
  run(sql: string, bindings?: readonly unknown[]): Promise<void>;
  /**
   * Runs the statements in order between BEGIN and COMMIT (synchronously on SQLite: the physical floor);
   * a statement that returns rows has them read and dropped.
   */
  writeAll(statements: ReadonlyArray<readonly [string, readonly unknown[]]>): Promise<void>;
  explain(sql: string, bindings: readonly unknown[]): Promise<string[]>;
  close(): Promise<void>;
}

/** A scratch database, and a driver connection to it. */
export interface BenchDatabase extends FreshDatabase {
  connect(): Promise<Driver>;
}

function sqliteDriver(filename: string): Driver {
  const db = new Database(filename);
  for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);
  const cache = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
    return stmt;
  };
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  return {
    kind: 'sqlite',
    all: async <T>(sql: string, bindings: readonly unknown[] = []) => prepared(sql).all(...bindings) as T[],
    run: async (sql, bindings = []) => void prepared(sql).run(...bindings),
    async writeAll(statements) {
      begin.run();
      try {
        for (const [sql, bindings] of statements) {
          const stmt = prepared(sql);
          if (stmt.reader) stmt.all(...bindings);
          else stmt.run(...bindings);
        }
        commit.run();
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    explain: async (sql, bindings) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...bindings) as Array<{ detail: string }>).map((r) => r.detail),
    close: async () => void db.close(),
  };
}

/** `?` → `$1, $2, …` (the bench's SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

async function pgDriver(url: string): Promise<Driver> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const names = new Map<string, string>();
  const query = async (sql: string, bindings: readonly unknown[]) => {
    let name = names.get(sql);
    if (!name) names.set(sql, (name = `bench_${names.size}`));
    return client.query({ name, text: numbered(sql), values: bindings as unknown[] });
  };
  return {
    kind: 'postgres',
    all: async <T>(sql: string, bindings: readonly unknown[] = []) => (await query(sql, bindings)).rows as T[],
    run: async (sql, bindings = []) => void (await query(sql, bindings)),
    async writeAll(statements) {
      await client.query('BEGIN');
      try {
        for (const [sql, bindings] of statements) await query(sql, bindings);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
    explain: async (sql, bindings) =>
      (await client.query({ text: `EXPLAIN ${numbered(sql)}`, values: bindings as unknown[] })).rows.map(
        (r: Record<string, string>) => r['QUERY PLAN'],
      ),
    close: () => client.end(),
  };
}

/** A driver connection to an existing database: better-sqlite3 for `sqlite:…`, pg otherwise. */
export function connectDriver(url: string): Promise<Driver> {
  return url.startsWith('sqlite:') ? Promise.resolve(sqliteDriver(url.slice('sqlite:'.length))) : pgDriver(url);
}

export async function freshDatabase(databaseUrl: string | undefined): Promise<BenchDatabase> {
  let db: FreshDatabase;
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl))
    db = await freshPostgresDatabase(databaseUrl, 'composite_bench_');
  else if (databaseUrl && !databaseUrl.startsWith('sqlite:'))
    throw new Error('DATABASE_URL must be sqlite:… or postgres://…');
  else db = freshSqliteDatabase('composite-bench-', 'bench.db');
  return { ...db, connect: () => connectDriver(db.url) };
}
