// Owns the mapping of database driver errors to contract errors — by driver error code, never by message text.
import { ApiError, errors } from '../errors';

/** A failure that is not the client's fault and goes away if the whole transaction is tried again. */
export class RetryableTransactionError extends Error {
  override name = 'RetryableTransactionError';
  /** A driver code (40001, SQLITE_BUSY…) or our own (STALE_READ: a conditional write found its row changed). */
  constructor(readonly code: string) {
    super(`transaction failed with ${code}`);
  }
}

/** An insert queued by write-behind (see `writeBehind` in exec.ts) failed when it ran. */
export class QueuedWriteFailed extends Error {
  override name = 'QueuedWriteFailed';
  constructor(
    /** The owner the insert was queued under: which unit of work it belongs to. */
    readonly owner: number,
    override readonly cause: unknown,
  ) {
    super('a queued insert failed');
  }
}

/**
 * Queued inserts written as one multi-row statement (PostgreSQL) failed, and the statement cannot
 * say which row did: the work is to be run again without write-behind to find out.
 */
export class BatchedWriteFailed extends Error {
  override name = 'BatchedWriteFailed';
  constructor(override readonly cause: unknown) {
    super('a batch of queued inserts failed');
  }
}

/**
 * The insert a PostgreSQL transaction sent with its COMMIT (`withCommit` in pgTransaction.ts) failed:
 * the transaction was rolled back, nothing of it committed.
 */
export class CommitInsertFailed extends Error {
  override name = 'CommitInsertFailed';
  constructor(override readonly cause: unknown) {
    super('the insert sent with COMMIT failed');
  }
}

const CONSTRAINTS: Record<string, 'unique' | 'foreignKey' | 'notNull' | 'check'> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreignKey',
  SQLITE_CONSTRAINT_NOTNULL: 'notNull',
  SQLITE_CONSTRAINT_CHECK: 'check',
  '23505': 'unique',
  '23503': 'foreignKey',
  '23502': 'notNull',
  '23514': 'check',
};

// 0A000: a prepared statement went stale after a schema change (see src/db/exec.ts); the retry re-prepares it.
const RETRYABLE = new Set(['40001', '40P01', '0A000', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT']);

/**
 * The database is down, restarting, refusing connections or gone: the server's trouble, reported as
 * 503 so clients and load balancers try again later. Not retried here; a lost connection is retried
 * once by the transaction runner, only when COMMIT was not sent (see isConnectionLost).
 */
// 57P0x shutdown/restart, 53300 too many connections, 3D000 database gone, 55000 not accepting
// connections (ALLOW_CONNECTIONS false, maintenance), then the socket-level failures.
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '3D000',
  '55000',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/**
 * The connection in use was lost: the backend was terminated (57P01 admin shutdown, 57P02 crash
 * shutdown), a connection exception (class 08), or the socket broke. Whatever ran on it did not
 * commit unless COMMIT itself was sent; a fresh connection may well work at once.
 */
const LOST_CODES = new Set(['57P01', '57P02', 'ECONNRESET', 'EPIPE']);

/**
 * pg raises these when a connection breaks between or under statements, with no SQLSTATE and no
 * error code (pg/lib/client.js): the message is the only signal the driver gives, so this is the one
 * place that reads message text. knex puts the statement before it (`ROLLBACK - Connection …`).
 */
const LOST_CONNECTION_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

function isLostConnectionMessage(err: unknown): boolean {
  if (!(err instanceof Error) || dbErrorCode(err) !== undefined) return false;
  const message = err.message;
  return LOST_CONNECTION_MESSAGES.some((m) => message === m || message.endsWith(` - ${m}`));
}

/** Whether `err` (a driver error, or the 503 it was mapped to) says the connection was lost. */
export function isConnectionLost(err: unknown): boolean {
  const raw = err instanceof ApiError ? err.cause : err;
  const code = dbErrorCode(raw);
  if (code !== undefined) return LOST_CODES.has(code) || code.startsWith('08');
  return isLostConnectionMessage(raw);
}

function isUnavailable(err: unknown, code: string | undefined): boolean {
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  // The pool gave up waiting for a connection.
  return (err as { name?: unknown } | null)?.name === 'KnexTimeoutError';
}

/**
 * The storage under the database is full or failing: SQLite's SQLITE_FULL, SQLITE_IOERR_* and
 * SQLITE_READONLY_* (the file system went read-only), PostgreSQL's class 53 (insufficient resources:
 * 53100 disk full, 53200 out of memory…) and 58030 (I/O error). Not the client's fault and not
 * retried here: 503 with Retry-After, and readiness reports it (see src/http/health.ts).
 */
export function storageFaultCode(err: unknown): string | undefined {
  // The driver's error may sit under a queued-write failure or under the 503 it was mapped to.
  for (
    let e = err, depth = 0;
    e !== undefined && e !== null && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = dbErrorCode(e);
    if (code === undefined) continue;
    if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY')) return code;
    if (/^53\d{3}$/.test(code) && code !== '53300') return code;
    if (code === '58030') return code;
  }
  return undefined;
}

/**
 * PostgreSQL's class 22, data exception (22021 a character not valid in the encoding such as U+0000,
 * 22003 numeric value out of range, 22P02 invalid text representation…): a value the client sent
 * that the column cannot hold. The edge refuses such values first; this keeps any it missed a 400.
 */
function isDataException(code: string): boolean {
  return code.length === 5 && code.startsWith('22');
}

export function dbErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A unique or primary-key constraint refused the write (either database). */
export function isUniqueViolation(err: unknown): boolean {
  const code = dbErrorCode(err);
  return code !== undefined && CONSTRAINTS[code] === 'unique';
}

export function isRetryable(err: unknown): boolean {
  const code = dbErrorCode(err);
  return err instanceof RetryableTransactionError || (code !== undefined && RETRYABLE.has(code));
}

/** Maps a constraint violation to a 409 the client can act on; anything else is returned unchanged. */
export function mapDbError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const code = dbErrorCode(err);
  const kind = code ? CONSTRAINTS[code] : undefined;
  switch (kind) {
    case 'unique':
      return errors.conflict(
        'The change conflicts with an existing resource (a value that must be unique is already used)',
      );
    case 'foreignKey':
      return errors.conflict(
        'The change would break a reference between resources (the referenced resource is missing or still in use)',
      );
    case 'notNull':
    case 'check':
      return errors.badInput('The change breaks a rule on the stored data');
    default:
      if (code !== undefined && isDataException(code))
        return errors.badInput(
          'A value cannot be stored: it is not valid for its type (for example text holding U+0000, or a number out of range)',
        );
      if (code === '57014') return errors.serviceUnavailable('The database statement took too long', 1);
      // Kept as the cause so a transaction that never reached COMMIT can tell, and run once more.
      if (isConnectionLost(err))
        return Object.assign(errors.serviceUnavailable('The connection to the database was lost; try again', 1), {
          cause: err,
        });
      if (isUnavailable(err, code))
        return errors.serviceUnavailable('The database is not reachable at the moment; try again', 5);
      if (storageFaultCode(err) !== undefined) {
        const unavailable = errors.serviceUnavailable(
          'The database could not write: its storage is full or failing. Nothing was changed; try again later',
          30,
        );
        // Kept (never shown) so inTransaction can tell readiness which fault it was.
        unavailable.cause = err;
        return unavailable;
      }
      return err;
  }
}
