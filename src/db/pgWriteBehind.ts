// Owns write-behind on PostgreSQL: the inserts a transaction queues, written just before its next
// other statement (or when the work asks) as multi-row INSERTs: a round trip per batch of rows
// instead of one per row.
import { BatchedWriteFailed, isRetryable, QueuedWriteFailed } from './errors';
import { InsertQueue, type QueuedInsert } from './insertQueue';

/** Per knex transaction object: its queue, once write-behind was started on it. */
const queues = new WeakMap<object, InsertQueue>();

/**
 * Rows per statement, largest first: every count up to 16 (a small composite's rows of one kind go in
 * one statement), then powers of two, so each insert shape has at most 20 texts to prepare.
 */
const BATCH_SIZES = [256, 128, 64, 32, ...Array.from({ length: 16 }, (_, i) => 16 - i)];

/** From now on, inserts on `trx` queue under `owner`. */
export function startWriteBehind(trx: object, owner: number): void {
  let queue = queues.get(trx);
  if (!queue) queues.set(trx, (queue = new InsertQueue()));
  queue.start(owner);
}

/** Queues an insert if write-behind is on for `trx`; false when it is off. */
export function queueInsert(trx: object, sql: string, values: readonly unknown[]): boolean {
  return queues.get(trx)?.push(sql, values) ?? false;
}

export function hasQueued(trx: object): boolean {
  return queues.get(trx)?.pending === true;
}

const multiRowTexts = new Map<string, string>();

/** A single-row INSERT as knex writes it (`insert into … values (?, ?)`) for `rows` rows. */
function multiRowInsert(sql: string, rows: number): string {
  if (rows === 1) return sql;
  const key = `${rows}\u0000${sql}`;
  let text = multiRowTexts.get(key);
  if (text === undefined) {
    const at = sql.lastIndexOf(' values (');
    if (at < 0) throw new Error('write-behind queues only single-row inserts');
    const head = sql.slice(0, at + ' values '.length);
    text = head + new Array<string>(rows).fill(sql.slice(head.length)).join(', ');
    multiRowTexts.set(key, text);
  }
  return text;
}

/**
 * Writes the queued inserts in order: each run of the same statement as multi-row INSERTs. A
 * single row that fails is `QueuedWriteFailed` naming its owner; a batch that fails cannot say which
 * row did (`BatchedWriteFailed`); a failure worth retrying the whole transaction is thrown as it is.
 */
export async function flushQueued(
  trx: object,
  run: (sql: string, values: readonly unknown[]) => Promise<unknown>,
  located = true,
): Promise<void> {
  const queue = queues.get(trx)?.take() ?? [];
  for (const [first, end] of runsOfOneStatement(queue)) {
    for (let start = first; start < end;) {
      const rows = BATCH_SIZES.find((size) => size <= end - start) as number;
      const batch = queue.slice(start, start + rows);
      try {
        await run(
          multiRowInsert(batch[0].sql, rows),
          batch.length === 1 ? batch[0].args : batch.flatMap((q) => q.args),
        );
      } catch (err) {
        if (isRetryable(err)) throw err;
        throw rows === 1 && located ? new QueuedWriteFailed(batch[0].owner, err) : new BatchedWriteFailed(err);
      }
      start += rows;
    }
  }
}

/** The queue's runs of the same statement, in order, as [start, end) index pairs. */
function* runsOfOneStatement(queue: readonly QueuedInsert[]): Generator<[number, number]> {
  for (let start = 0; start < queue.length;) {
    let end = start + 1;
    while (end < queue.length && queue[end].sql === queue[start].sql) end++;
    yield [start, end];
    start = end;
  }
}

interface RowTemplate {
  /** `insert into … values ` */
  head: string;
  /** The row's text around its placeholders: `(`, `, `, …, `)`. */
  parts: string[];
}

const rowTemplates = new Map<string, RowTemplate>();

function rowTemplate(sql: string): RowTemplate {
  let template = rowTemplates.get(sql);
  if (template === undefined) {
    const at = sql.lastIndexOf(' values (');
    if (at < 0) throw new Error('write-behind queues only single-row inserts');
    const head = sql.slice(0, at + ' values '.length);
    // `?` is a placeholder, `\?` a question mark (knex's escape); inserts of ours have no literal `?`.
    const parts = sql.slice(head.length).split('?');
    if (parts.some((part) => part.endsWith('\\'))) throw new Error('write-behind queues no literal question mark');
    rowTemplates.set(sql, (template = { head, parts }));
  }
  return template;
}

/** pg's own conversion and quoting (pg/lib/utils: what it uses for parameters and exports as `escapeLiteral`). */
interface PgUtils {
  prepareValue(value: unknown): string | Buffer | null;
  escapeLiteral(text: string): string;
}

let pgUtils: PgUtils | undefined;

/**
 * A value as a SQL literal, by pg's own rules: `prepareValue` turns it into the text pg would send
 * as a parameter, `escapeLiteral` quotes that. An untyped literal takes its column's type, as a
 * parameter does. pg is loaded here, not at import: a SQLite server never loads it.
 */
function literal(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when the database is PostgreSQL
  const pg = (pgUtils ??= require('pg/lib/utils') as PgUtils);
  const text = pg.prepareValue(value);
  if (text === null) return 'NULL';
  return pg.escapeLiteral(Buffer.isBuffer(text) ? `\\x${text.toString('hex')}` : text);
}

function insertText(batch: readonly QueuedInsert[]): string {
  const { head, parts } = rowTemplate(batch[0].sql);
  let text = head;
  for (let r = 0; r < batch.length; r++) {
    const args = batch[r].args;
    if (args.length !== parts.length - 1) throw new Error('a queued insert has the wrong number of values');
    text += r === 0 ? parts[0] : `, ${parts[0]}`;
    for (let i = 0; i < args.length; i++) text += literal(args[i]) + parts[i + 1];
  }
  return text;
}

const statementParts = new Map<string, string[]>();

/**
 * A statement with its `?` placeholders replaced by `values` as literals (pg's quoting, as for the
 * queued inserts): to be sent in a simple query with other statements, in one round trip.
 */
export function statementText(sql: string, values: readonly unknown[]): string {
  let parts = statementParts.get(sql);
  if (parts === undefined) {
    parts = sql.split('?');
    if (parts.some((part) => part.endsWith('\\')))
      throw new Error('a statement sent as text has no literal question mark');
    statementParts.set(sql, parts);
  }
  if (values.length !== parts.length - 1) throw new Error('a statement sent as text has the wrong number of values');
  let text = parts[0];
  for (let i = 0; i < values.length; i++) text += literal(values[i]) + parts[i + 1];
  return text;
}

/**
 * Takes what is queued on `trx` as the text of its INSERTs, values written as literals, each run of
 * the same statement as one multi-row INSERT, separated by `;` — to be sent as one simple query with
 * COMMIT (see `runPgTransaction`). Undefined when nothing is queued.
 */
export function takeQueuedAsText(trx: object): string | undefined {
  const queue = queues.get(trx)?.take() ?? [];
  if (queue.length === 0) return undefined;
  const statements: string[] = [];
  for (const [start, end] of runsOfOneStatement(queue)) statements.push(insertText(queue.slice(start, end)));
  return statements.join('; ');
}
