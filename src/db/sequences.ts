// Owns id reservation: ids come from a sequence that a rollback never rewinds, so an id shown once is never reused.
import type { Knex } from 'knex';
import { isSqlite } from './knex';
import { queryFirst, queryRows, type DbHandle } from './exec';
import { PgTransaction } from './pgTransaction';
import { SqliteTransaction } from './sqliteTransaction';

/** Creates the sequence a table's ids are drawn from (PostgreSQL SEQUENCE; a counter row on SQLite). */
export async function createSequence(knex: Knex, name: string): Promise<void> {
  if (isSqlite(knex)) {
    if (!(await knex.schema.hasTable('id_sequences'))) {
      await knex.schema.createTable('id_sequences', (t) => {
        t.string('name', 64).primary();
        t.bigInteger('next_id').notNullable();
      });
    }
    await knex('id_sequences').insert({ name, next_id: 1 });
  } else {
    await knex.raw(`CREATE SEQUENCE ${name}_seq START 1`);
  }
}

export async function dropSequence(knex: Knex, name: string): Promise<void> {
  if (isSqlite(knex)) await knex('id_sequences').where({ name }).delete();
  else await knex.raw(`DROP SEQUENCE IF EXISTS ${name}_seq`);
}

/**
 * Moves a SQLite counter on by `count`; its new value. Inside a transaction (a composite's, every
 * time), an UPDATE then a SELECT: SQLite runs UPDATE … RETURNING through a temporary table, which
 * costs more than the second statement (bench/README.md), and the transaction holds the one write
 * lock, so no writer comes in between. Outside one, the two would be two turns on the pool.
 */
async function nextIdAfter(h: DbHandle, sequence: string, count: number): Promise<{ next_id: number } | undefined> {
  if (!(h instanceof SqliteTransaction))
    return queryFirst(h, 'UPDATE id_sequences SET next_id = next_id + ? WHERE name = ? RETURNING next_id', [
      count,
      sequence,
    ]);
  await queryRows(h, 'UPDATE id_sequences SET next_id = next_id + ? WHERE name = ?', [count, sequence]);
  return queryFirst(h, 'SELECT next_id FROM id_sequences WHERE name = ?', [sequence]);
}

/**
 * Reserves `count` ids of a sequence. On PostgreSQL nextval is never rolled back. On SQLite a
 * rollback undoes the counter's update, and `IdReservations.keep` moves it past the ids again (see
 * `TransactionOptions.durable`), so a rolled-back composite still consumes the ids it showed.
 */
export async function reserveIds(h: DbHandle, sequence: string, count: number): Promise<number[]> {
  if (count <= 0) return [];
  if (isSqlite(h)) {
    const row = await nextIdAfter(h, sequence, count);
    if (!row) throw new Error(`unknown id sequence ${sequence}`);
    const first = Number(row.next_id) - count;
    return Array.from({ length: count }, (_, i) => first + i);
  }
  const rows = await queryRows<{ id: string }>(h, 'SELECT nextval(?::regclass) AS id FROM generate_series(1, ?)', [
    `${sequence}_seq`,
    count,
  ]);
  return rows.map((r) => Number(r.id));
}

/**
 * PostgreSQL: `reserveIds` for several sequences in one statement (one round trip, not one each) —
 * inside a transaction of ours that has not started, in the same round trip as its BEGIN. Its values
 * are the server's own (sequence names from the resource definitions, counts), written as literals.
 * Rows come out sequence by sequence, each sequence's in the order its nextval ran.
 */
async function reserveFromSequences(h: PgTransaction, counts: Map<string, number>): Promise<Map<string, number[]>> {
  const names = [...counts.keys()];
  const values = names.map((name) => {
    const count = counts.get(name) as number;
    if (!/^[a-z_][a-z0-9_]*$/.test(name) || !Number.isSafeInteger(count)) throw new Error(`bad reservation ${name}`);
    return `('${name}_seq', ${count})`;
  });
  const sql = `SELECT r.seq, nextval(r.seq::regclass) AS id FROM (VALUES ${values.join(', ')}) AS r(seq, n) CROSS JOIN LATERAL generate_series(1, r.n)`;
  const rows = await h.first<{ seq: string; id: string }>(sql);
  const out = new Map<string, number[]>(names.map((name) => [name, []]));
  for (const row of rows) out.get(row.seq.slice(0, -'_seq'.length))?.push(Number(row.id));
  for (const ids of out.values()) ids.sort((a, b) => a - b);
  return out;
}

/** How many ids of a sequence a PostgreSQL server draws beyond what the transaction at hand needs. */
export const DRAW_AHEAD = 64;

/** Per database (its knex client) and sequence, ids drawn and not handed out yet, in ascending order. */
const drawnAhead = new WeakMap<object, Map<string, number[]>>();

/**
 * PostgreSQL: takes `counts` ids of each sequence from those this process drew ahead, drawing more
 * first (`DRAW_AHEAD` beyond the need, in one statement with the transaction's BEGIN) when too few are
 * left. Most composites then reserve their ids with no round trip at all, and their BEGIN can go
 * with their inserts and COMMIT. An id drawn is consumed for good (nextval): ids this process never
 * hands out are gaps, as after a rollback, never reused. In a process, ids come out in ascending
 * order; with several processes on one database each hands out its own drawn ids.
 */
async function drawIds(h: PgTransaction, counts: Map<string, number>): Promise<Map<string, number[]>> {
  let drawn = drawnAhead.get(h.knex.client);
  if (!drawn) drawnAhead.set(h.knex.client, (drawn = new Map()));
  for (;;) {
    const short = new Map<string, number>();
    for (const [sequence, count] of counts) {
      const left = drawn.get(sequence)?.length ?? 0;
      if (left < count) short.set(sequence, count - left + DRAW_AHEAD);
    }
    // Taken at once (no await in between), so concurrent transactions never take the same id.
    if (short.size === 0)
      return new Map([...counts].map(([sequence, count]) => [sequence, take(drawn, sequence, count)]));
    for (const [sequence, ids] of await reserveFromSequences(h, short)) {
      const ahead = drawn.get(sequence) ?? [];
      // Another transaction of this process may have drawn meanwhile: keep them in ascending order.
      drawn.set(
        sequence,
        ahead.length > 0 && ahead[ahead.length - 1] > ids[0]
          ? [...ahead, ...ids].sort((a, b) => a - b)
          : [...ahead, ...ids],
      );
    }
  }
}

function take(drawn: Map<string, number[]>, sequence: string, count: number): number[] {
  const ahead = drawn.get(sequence);
  if (!ahead || count <= 0) return [];
  if (count === ahead.length) drawn.set(sequence, []);
  return count === ahead.length ? ahead : ahead.splice(0, count);
}

/**
 * After the transaction that reserved ids up to `last` rolled back (SQLite only: a rollback undoes the
 * counter's update), moves the counter past them again, so ids a failed composite showed are never reused.
 */
async function keepReservedIds(h: DbHandle, sequence: string, last: number): Promise<void> {
  if (!isSqlite(h)) return;
  await queryRows(h, 'UPDATE id_sequences SET next_id = MAX(next_id, ?) WHERE name = ?', [last + 1, sequence]);
}

/** The id the sequence will hand out next (for copying a database; nothing is reserved). */
export async function peekNextId(h: DbHandle, sequence: string): Promise<number> {
  if (isSqlite(h)) {
    const row = await queryFirst<{ next_id: number }>(h, 'SELECT next_id FROM id_sequences WHERE name = ?', [sequence]);
    if (!row) throw new Error(`unknown id sequence ${sequence}`);
    return Number(row.next_id);
  }
  const row = await queryFirst<{ last_value: number; is_called: boolean }>(
    h,
    `SELECT last_value, is_called FROM ${sequence}_seq`,
  );
  if (!row) throw new Error(`unknown id sequence ${sequence}`);
  return Number(row.last_value) + (row.is_called ? 1 : 0);
}

/** Makes the sequence hand out `next` next. Only for copying a database into a fresh one. */
export async function setNextId(h: DbHandle, sequence: string, next: number): Promise<void> {
  if (isSqlite(h)) await queryRows(h, 'UPDATE id_sequences SET next_id = ? WHERE name = ?', [next, sequence]);
  else await queryRows(h, 'SELECT setval(?::regclass, ?, false)', [`${sequence}_seq`, next]);
}

/** Hands out ids reserved ahead of a transaction, reserving more (inside it) only if a caller needs them. */
export class IdReservations {
  private readonly used = new Map<string, number>();
  /** Per sequence, the ids of rows this transaction inserted and has not deleted since. */
  private readonly inserted = new Map<string, Set<number>>();
  /** Sequence → ids reserved ahead (see `reserve`). */
  private readonly reserved = new Map<string, number[]>();

  /** The next id reserved ahead, or undefined when none is left (then `reserveOne`). */
  take(sequence: string): number | undefined {
    const pool = this.reserved.get(sequence);
    const used = this.used.get(sequence) ?? 0;
    if (!pool || used >= pool.length) return undefined;
    this.used.set(sequence, used + 1);
    return pool[used];
  }

  /** One more id, reserved now (inside the caller's transaction) when none was reserved ahead. */
  async reserveOne(h: DbHandle, sequence: string): Promise<number> {
    if (h instanceof PgTransaction) return ((await drawIds(h, new Map([[sequence, 1]]))).get(sequence) as number[])[0];
    const [id] = await reserveIds(h, sequence, 1);
    return id;
  }

  /** Hands the reserved ids out again from the first (a retried transaction committed none of them). */
  rewind(): void {
    this.used.clear();
    this.inserted.clear();
  }

  /** Records a row this transaction inserted (so a later subrequest needs no lookup to know it exists). */
  markInserted(sequence: string, id: number): void {
    let ids = this.inserted.get(sequence);
    if (!ids) this.inserted.set(sequence, (ids = new Set()));
    ids.add(id);
  }

  markDeleted(sequence: string, id: number): void {
    this.inserted.get(sequence)?.delete(id);
  }

  /** Whether this transaction inserted the row and has not deleted it: then it surely exists. */
  insertedHere(sequence: string, id: number): boolean {
    return this.inserted.get(sequence)?.has(id) === true;
  }

  /**
   * Reserves ids for every sequence in `counts` ahead of the work that uses them, as durable work of
   * the transaction (see `TransactionOptions.durable`): a failed composite never rewinds them. On
   * PostgreSQL they come from the ids this process drew ahead (`drawIds`).
   */
  async reserve(h: DbHandle, counts: Map<string, number>): Promise<void> {
    if (h instanceof PgTransaction) {
      for (const [sequence, ids] of await drawIds(h, counts)) this.reserved.set(sequence, ids);
      return;
    }
    for (const [sequence, count] of counts) this.reserved.set(sequence, await reserveIds(h, sequence, count));
  }

  /** Makes the reservation hold after its transaction rolled back (see `reserve`). */
  async keep(h: DbHandle): Promise<void> {
    for (const [sequence, ids] of this.reserved)
      if (ids.length > 0) await keepReservedIds(h, sequence, ids[ids.length - 1]);
  }
}
