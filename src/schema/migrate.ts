// Owns schema migrations: the ordered list of migration modules and running them with knex's migrator.
import type { Knex } from 'knex';
import * as m001 from './migrations/001_resources';
import * as m002 from './migrations/002_connectors';
import * as m003 from './migrations/003_durable_requests';
import * as m004 from './migrations/004_durable_async_indexes';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. A new migration is a file in src/schema/migrations/ and an entry here. */
export const MIGRATIONS: Array<[string, Migration]> = [
  ['001_resources', m001],
  ['002_connectors', m002],
  ['003_durable_requests', m003],
  ['004_durable_async_indexes', m004],
];

/** A static source, so migrations work the same from ts-jest, ts sources and the compiled dist/. */
export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

export async function migrateLatest(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource });
}
