// Owns the durable_requests table: claiming a record (the database decides between two calls with one
// key), storing its answer under the claim token, the worker's queue (FOR UPDATE SKIP LOCKED on
// PostgreSQL), leases, and purging.
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { StoredAnswer } from '../api/operation';
import { storedAnswerText } from './storedAnswer';
import { execute, queryFirst, queryRows, type DbHandle } from '../db/exec';
import { isSqlite } from '../db/knex';
import { PgTransaction } from '../db/pgTransaction';
import { statementText } from '../db/pgWriteBehind';

export type RecordKind = 'sync' | 'async';
export type RecordState = 'accepted' | 'inProgress' | 'complete';

export interface RequestRecord {
  id: string;
  caller: string;
  idem_key: string | null;
  kind: RecordKind;
  method: string;
  request_uri: string;
  fingerprint: string;
  request: string | null;
  state: RecordState;
  owner: string | null;
  lease_until: string | null;
  attempts: number;
  response_status: number | null;
  response: string | null;
  replay_state: string | null;
  create_time: string;
  update_time: string;
  complete_time: string | null;
  key_expires: string | null;
  purge_after: string;
}

export type NewRecord = Pick<
  RequestRecord,
  | 'id'
  | 'caller'
  | 'idem_key'
  | 'kind'
  | 'method'
  | 'request_uri'
  | 'fingerprint'
  | 'request'
  | 'state'
  | 'owner'
  | 'lease_until'
  | 'create_time'
  | 'key_expires'
  | 'purge_after'
> &
  Partial<Pick<RequestRecord, 'response_status' | 'response' | 'replay_state' | 'complete_time'>>;

/** Every column, in the order of the INSERT's values. */
const COLUMNS = [
  ...'id caller idem_key kind method request_uri fingerprint request state owner lease_until attempts'.split(' '),
  ...'create_time update_time key_expires purge_after response_status response replay_state complete_time'.split(' '),
];

const INSERT_ROW = `INSERT INTO durable_requests (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;
const INSERT = `${INSERT_ROW} ON CONFLICT (caller, idem_key) DO NOTHING`;
const FIND_BY_KEY = 'SELECT * FROM durable_requests WHERE caller = ? AND idem_key = ?';

/**
 * The two statements a keyed call adds to its transaction on SQLite — the key's lookup and its record's
 * INSERT — for the bench's HTTP floor, which runs them as they are to measure what they cost alone.
 */
export const KEYED_CALL_SQL = { findByKey: FIND_BY_KEY, insertRecord: INSERT_ROW };

/** A record's values, in the order of its INSERT's columns. */
export function rowValues(r: NewRecord): unknown[] {
  const row: Record<string, unknown> = {
    ...r,
    attempts: r.state === 'accepted' ? 0 : 1,
    update_time: r.complete_time ?? r.create_time,
  };
  return COLUMNS.map((c) => row[c] ?? null);
}

/** What a keyed call that answered in its transaction keeps: its answer, under its key until the key expires. */
export interface AnsweredCall {
  caller: string;
  key: string;
  method: string;
  uri: string;
  fingerprint: string;
  /** How long the key holds (IDEMPOTENCY_TTL_HOURS). */
  ttlHours: number;
  answer: StoredAnswer;
  /** The JSON of the answer's body, when the caller has it already (it is sent as the same text). */
  bodyJson?: string;
  replayState?: unknown;
}

/**
 * A new record's id: a UUID that starts with its time (RFC 9562 version 7), not a random one. Records
 * come in time order, so each one's primary-key entry goes next to the one before, in a page the last
 * commits have just written, rather than into a random page of an index that grows with every keyed
 * call (on SQLite and on PostgreSQL alike). The rest of it is random: an id is not guessable.
 */
export function newRecordId(): string {
  return uuidv7();
}

/** The complete synchronous record of a call answered in its own transaction. */
export function answeredRecord(call: AnsweredCall): NewRecord {
  const now = Date.now();
  const keyExpires = new Date(now + call.ttlHours * 3600000).toISOString();
  const at = new Date(now).toISOString();
  return {
    id: newRecordId(),
    caller: call.caller,
    idem_key: call.key,
    kind: 'sync',
    method: call.method.toUpperCase(),
    request_uri: call.uri,
    fingerprint: call.fingerprint,
    request: null,
    state: 'complete',
    owner: null,
    lease_until: null,
    create_time: at,
    complete_time: at,
    key_expires: keyExpires,
    purge_after: keyExpires,
    response_status: call.answer.status,
    response: storedAnswerText(call.answer, call.bodyJson),
    replay_state: call.replayState === undefined ? null : JSON.stringify(call.replayState),
  };
}

/**
 * Inserts the record unless the caller already holds its key: true when this call owns it now. `h`
 * may be the transaction holding the call's writes (a record inserted complete, with its answer).
 */
export async function insertRecord(h: DbHandle, r: NewRecord): Promise<boolean> {
  return (await execute(h, INSERT, rowValues(r))) === 1;
}

/**
 * Inserts the record as the last statement of the transaction `trx` (nothing may run in it after):
 * true when this call owns the key. On PostgreSQL the record goes with COMMIT, in the simple query
 * that carries the queued inserts: no answer comes back before it, so true; a caller who holds the
 * key by then (another instance committed it first) makes the commit fail as `CommitInsertFailed`.
 */
export async function insertRecordLast(trx: DbHandle, r: NewRecord): Promise<boolean> {
  if (!(trx instanceof PgTransaction)) return insertRecord(trx, r);
  trx.withCommit(statementText(INSERT_ROW, rowValues(r)), 'durable_requests');
  return true;
}

export async function findByKey(h: DbHandle, caller: string, key: string): Promise<RequestRecord | undefined> {
  return queryFirst<RequestRecord>(h, FIND_BY_KEY, [caller, key]);
}

/**
 * PostgreSQL: takes the key's advisory lock (held until the transaction ends, so a call with the key on
 * another instance sees it) and reads the key's record, in one round trip (with BEGIN when it is the first). `free` is false when another
 * transaction holds the lock. The read may miss a record committed while the lock was being taken;
 * the record's INSERT (ON CONFLICT DO NOTHING) then finds it.
 */
export async function lockKeyAndFind(
  h: DbHandle,
  slot: string,
  caller: string,
  key: string,
): Promise<{ free: boolean; record?: RequestRecord }> {
  const sql =
    'SELECT l.key_free, r.* FROM (SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0)) AS key_free) l LEFT JOIN durable_requests r ON l.key_free AND r.caller = ? AND r.idem_key = ?';
  type Row = RequestRecord & { key_free: boolean };
  // The transaction's first statement goes with its BEGIN, values as literals: one round trip.
  const row =
    h instanceof PgTransaction && !h.started
      ? (await h.first<Row>(statementText(sql, [slot, caller, key])))[0]
      : await queryFirst<Row>(h, sql, [slot, caller, key]);
  if (!row?.key_free) return { free: false };
  const { key_free: _free, ...record } = row;
  return { free: true, record: record.id === null ? undefined : record };
}

export async function findById(knex: Knex, id: string): Promise<RequestRecord | undefined> {
  return queryFirst<RequestRecord>(knex, 'SELECT * FROM durable_requests WHERE id = ?', [id]);
}

/** Frees an expired key (the row itself stays until it is purged). */
export async function expireKey(h: DbHandle, id: string, now: string): Promise<void> {
  await execute(h, 'UPDATE durable_requests SET idem_key = NULL WHERE id = ? AND key_expires < ?', [id, now]);
}

/** Takes over a call whose runner stopped renewing its lease (it died before its commit). */
export async function takeOver(
  knex: Knex,
  id: string,
  owner: string,
  leaseUntil: string,
  now: string,
): Promise<boolean> {
  const sql =
    "UPDATE durable_requests SET owner = ?, lease_until = ?, attempts = attempts + 1, update_time = ? WHERE id = ? AND state = 'inProgress' AND lease_until < ?";
  return (await execute(knex, sql, [owner, leaseUntil, now, id, now])) === 1;
}

export async function renewLease(knex: Knex, id: string, owner: string, leaseUntil: string): Promise<void> {
  await execute(
    knex,
    "UPDATE durable_requests SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'inProgress'",
    [leaseUntil, id, owner],
  );
}

/**
 * Stores the answer and completes the record — only under the claim token that runs it, so of two
 * runners (one thought dead) only one commits. `h` may be the transaction holding the call's writes.
 * `releaseKey` frees the key at once (a 5xx of an asynchronous call: a retry with the key runs again).
 */
export async function completeRecord(
  h: DbHandle,
  id: string,
  owner: string,
  answer: StoredAnswer,
  replayState: unknown,
  now: string,
  releaseKey = false,
): Promise<boolean> {
  // The request (which may hold a password being set) is kept only while something still has to run from it.
  const sql = `UPDATE durable_requests SET state = 'complete', response_status = ?, response = ?, replay_state = ?, complete_time = ?, update_time = ?, lease_until = NULL${answer.partial ? '' : ', request = NULL'}${releaseKey ? ', idem_key = NULL' : ''} WHERE id = ? AND owner = ? AND state = 'inProgress'`;
  const replay = replayState === undefined ? null : JSON.stringify(replayState);
  return (await execute(h, sql, [answer.status, storedAnswerText(answer), replay, now, now, id, owner])) === 1;
}

/** Replaces a complete record's answer with the whole of it (a composite's, selections included). */
export async function finalizeAnswer(knex: Knex, id: string, owner: string, answer: StoredAnswer): Promise<void> {
  await execute(
    knex,
    "UPDATE durable_requests SET response = ?, request = NULL WHERE id = ? AND owner = ? AND state = 'complete'",
    [storedAnswerText(answer), id, owner],
  );
}

/** Forgets a call that ended without an answer to keep (a 5xx): its retry runs again. */
export async function dropRecord(knex: Knex, id: string, owner: string): Promise<void> {
  await execute(knex, "DELETE FROM durable_requests WHERE id = ? AND owner = ? AND state = 'inProgress'", [id, owner]);
}

/** Forgets a synchronous call whose runner stopped renewing its lease (it died before its commit). */
export async function dropDead(h: DbHandle, id: string, now: string): Promise<boolean> {
  const sql =
    "DELETE FROM durable_requests WHERE id = ? AND kind = 'sync' AND state = 'inProgress' AND lease_until < ?";
  return (await execute(h, sql, [id, now])) === 1;
}

/**
 * Claims the oldest asynchronous request nobody runs (accepted, or in progress with its lease run
 * out). On PostgreSQL, SKIP LOCKED lets several instances claim at once, each a different row.
 */
export async function claimNext(
  knex: Knex,
  owner: string,
  leaseUntil: string,
  now: string,
): Promise<RequestRecord | undefined> {
  const lock = isSqlite(knex) ? '' : ' FOR UPDATE SKIP LOCKED';
  const sql = `UPDATE durable_requests SET state = 'inProgress', owner = ?, lease_until = ?, attempts = attempts + 1, update_time = ?
    WHERE id = (SELECT id FROM durable_requests WHERE kind = 'async' AND state <> 'complete' AND (state = 'accepted' OR (state = 'inProgress' AND lease_until < ?))
    ORDER BY create_time, id LIMIT 1${lock}) RETURNING *`;
  const rows = await queryRows<RequestRecord>(knex, sql, [owner, leaseUntil, now, now]);
  return rows[0];
}

/**
 * Makes every call in progress claimable at once. Only on SQLite at start: one server process serves
 * a file, so whatever is in progress when it starts was left by a process that died.
 */
export async function releaseOrphans(knex: Knex): Promise<number> {
  return execute(knex, "UPDATE durable_requests SET lease_until = '' WHERE state = 'inProgress'");
}

/** Deletes records past their time and frees expired keys of records kept longer. */
export async function purge(knex: Knex, now: string): Promise<number> {
  const deleted = await execute(
    knex,
    "DELETE FROM durable_requests WHERE purge_after < ? AND (state = 'complete' OR kind = 'sync')",
    [now],
  );
  // Only an asynchronous record outlives its key (a synchronous one is purged when its key expires).
  await execute(
    knex,
    "UPDATE durable_requests SET idem_key = NULL WHERE kind = 'async' AND idem_key IS NOT NULL AND key_expires < ?",
    [now],
  );
  return deleted;
}
