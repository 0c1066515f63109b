// Jest global setup and teardown (one function, called twice): on PostgreSQL, gives the run an id that
// prefixes every test database, and at the end drops any database of this run a crashed file left behind.
import { dropRunDatabases, startDatabaseRun } from './database';

const STARTED = Symbol.for('composite-test-database-run');

export default async function databaseRun(): Promise<void> {
  const state = globalThis as { [STARTED]?: boolean };
  if (!state[STARTED]) {
    state[STARTED] = true;
    startDatabaseRun();
    return;
  }
  await dropRunDatabases();
}
