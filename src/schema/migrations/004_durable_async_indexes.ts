// Narrows two indexes of durable_requests to the rows that use them: the worker's queue and the
// freeing of expired keys only ever look at asynchronous records, while most rows are Idempotency-Key
// answers, written in the transaction of the call they answer — every index such a row enters is
// one more page written at that call's commit. Partial indexes (WHERE kind = 'async', the queue also
// without complete records), the same SQL on SQLite and PostgreSQL; a query uses one only when its
// own WHERE says the same.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('durable_requests', (t) => {
    t.dropIndex(['kind', 'state', 'create_time']);
    t.dropIndex(['key_expires']);
  });
  // A partial index's condition is part of its definition: written out, never a bound parameter.
  // The queue holds only what the worker may still claim, in the order it claims it.
  await knex.raw(
    "CREATE INDEX durable_requests_async_queue ON durable_requests (create_time, id) WHERE kind = 'async' AND state <> 'complete'",
  );
  await knex.raw(
    "CREATE INDEX durable_requests_async_key_expires ON durable_requests (key_expires) WHERE kind = 'async'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX durable_requests_async_queue');
  await knex.raw('DROP INDEX durable_requests_async_key_expires');
  await knex.schema.alterTable('durable_requests', (t) => {
    t.index(['kind', 'state', 'create_time']);
    t.index(['key_expires']);
  });
}
