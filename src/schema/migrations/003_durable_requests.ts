// Creates the durable request store: one row per request whose answer must outlive the call — an
// Idempotency-Key call (its answer, replayed on a retry) or an asynchronous call (Prefer:
// respond-async: the request itself, run later by a worker, and its answer).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('durable_requests', (t) => {
    t.string('id', 36).primary();
    /** The caller's username: keys are scoped to it, and only it (or an admin) reads an async record. */
    t.string('caller', 64).notNullable();
    /** The Idempotency-Key; NULL once it has expired (the row may live on as an async record). */
    t.string('idem_key', 255);
    /** 'sync' (an Idempotency-Key call answered at once) or 'async' (run by the worker). */
    t.string('kind', 8).notNullable();
    t.string('method', 10).notNullable();
    t.string('request_uri', 4096).notNullable();
    /** SHA-256 of method, uri and body: the same key with another request is refused (422). */
    t.string('fingerprint', 64).notNullable();
    /** What an async call needs to run later: the operation, caller, params, query, headers and body. */
    t.text('request');
    /** accepted → inProgress → complete. */
    t.string('state', 16).notNullable();
    /** The claim token of whoever runs it now; the answer is stored only under this token. */
    t.string('owner', 36);
    t.string('lease_until', 32);
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('response_status');
    /** The answer: status, headers and body, as JSON. */
    t.text('response');
    /** What a replay needs beyond the answer (a composite's variables, for its selections). */
    t.text('replay_state');
    t.string('create_time', 32).notNullable();
    t.string('update_time', 32).notNullable();
    t.string('complete_time', 32);
    t.string('key_expires', 32);
    t.string('purge_after', 32).notNullable();
    // The database decides which of two calls with one key runs: on one instance or several.
    t.unique(['caller', 'idem_key']);
    t.index(['kind', 'state', 'create_time']);
    t.index(['purge_after']);
    t.index(['key_expires']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('durable_requests');
}
