// Owns the SQL differences between SQLite and PostgreSQL that the rest of the code must not know about.
import type { Knex } from 'knex';
import { isSqlite } from './knex';

/** `sw` and `cn` are case-insensitive on both databases: SQLite's LIKE already is, PostgreSQL needs ILIKE. */
export function caseInsensitiveLike(h: Knex): string {
  return isSqlite(h) ? 'LIKE' : 'ILIKE';
}

/** The current time as stored: ISO-8601 UTC with milliseconds, which sorts as text. */
export function nowIso(): string {
  return new Date().toISOString();
}
