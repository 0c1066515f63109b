// Creates the connector registry's store: one row holding the definitions in force (so every server
// instance on this database serves the same set) and the outcome of the last sync attempt.
import type { Knex } from 'knex';

export const EMPTY_REGISTRY = '{"connectors":[],"composite_connectors":[]}';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('connector_registry', (t) => {
    t.integer('id').primary();
    /** Bumped whenever the definitions change; instances recompile when theirs is older. */
    t.bigInteger('revision').notNullable();
    t.text('definitions').notNullable();
    t.string('definitions_hash', 64).notNullable();
    t.string('synced_at', 32);
    t.string('synced_from', 1024);
    t.string('attempt_at', 32);
    t.boolean('attempt_ok');
    t.text('attempt_problems');
    t.string('attempt_source', 1024);
  });
  await knex('connector_registry').insert({ id: 1, revision: 0, definitions: EMPTY_REGISTRY, definitions_hash: '' });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('connector_registry');
}
