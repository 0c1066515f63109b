// Creates the resource tables (users, activities, notes), their id sequences, indexes for every
// filterable and sortable column, and the composite idempotency ledger.
import type { Knex } from 'knex';
import { createSequence, dropSequence } from '../../db/sequences';

function timestamps(t: Knex.CreateTableBuilder): void {
  t.integer('checksum').notNullable().defaultTo(0);
  t.string('create_time', 32).notNullable();
  t.string('update_time', 32).notNullable();
  t.index(['create_time']);
  t.index(['update_time']);
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.bigInteger('id').primary();
    t.string('username', 64).notNullable().unique();
    t.string('display_name', 255);
    t.text('roles').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.string('password_hash', 255).notNullable();
    timestamps(t);
    t.index(['display_name']);
    t.index(['active']);
  });
  await knex.schema.createTable('activities', (t) => {
    t.bigInteger('id').primary();
    t.string('subject', 255).notNullable();
    t.text('description');
    t.string('priority', 16).notNullable();
    t.string('status', 16).notNullable();
    t.string('due_date', 10);
    t.bigInteger('assigned_user_id').references('users.id');
    t.bigInteger('assigned_by_user_id').references('users.id');
    timestamps(t);
    t.index(['subject']);
    t.index(['priority']);
    t.index(['status']);
    t.index(['due_date']);
    t.index(['assigned_user_id']);
    t.index(['assigned_by_user_id']);
  });
  await knex.schema.createTable('notes', (t) => {
    t.bigInteger('id').primary();
    t.bigInteger('activity_id').notNullable().references('activities.id').onDelete('CASCADE');
    t.string('subject', 255);
    t.text('body').notNullable();
    t.string('topic', 16);
    t.boolean('confidential').notNullable().defaultTo(false);
    t.bigInteger('author_id').references('users.id');
    timestamps(t);
    t.index(['activity_id']);
    t.index(['subject']);
    t.index(['topic']);
    t.index(['confidential']);
    t.index(['author_id']);
  });
  await knex.schema.createTable('composite_transactions', (t) => {
    t.string('id', 128).primary();
    t.string('create_time', 32).notNullable();
  });
  for (const name of ['users', 'activities', 'notes']) await createSequence(knex, name);
}

export async function down(knex: Knex): Promise<void> {
  for (const name of ['users', 'activities', 'notes']) await dropSequence(knex, name);
  await knex.schema.dropTable('composite_transactions');
  await knex.schema.dropTable('notes');
  await knex.schema.dropTable('activities');
  await knex.schema.dropTable('users');
}
