// Owns the SQL differences between SQLite and PostgreSQL that the rest of the code must not know about.
import type { Knex } from 'knex';
import { isSqlite } from './knex';

/** `sw` and `cn` are case-insensitive on both databases: SQLite's LIKE already is, PostgreSQL needs ILIKE. */
export function caseInsensitiveLike(h: Pick<Knex, 'client'>): string {
  return isSqlite(h) ? 'LIKE' : 'ILIKE';
}

/** The current time as stored: ISO-8601 UTC with milliseconds, which sorts as text. */
export function nowIso(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** Formatting a date is costly next to a SQLite insert; a composite stamps many rows in one millisecond. */
let lastMs = -1;
let lastIso = '';
