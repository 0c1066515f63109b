// Owns the list of what a server stores, in foreign-key order: each resource's table and id sequence
// (from its definition), then the tables beside the resources. Copying a server's data walks it.
import { resourceDefinitions } from './resources';
import type { StoredData } from './schema/copy';

export const STORED_DATA: StoredData = {
  tables: [
    ...resourceDefinitions.map((r) => ({ name: r.table })),
    // The GW-DBTransaction-ID ledger (composite), the connector registry (seeded by its migration), durable requests.
    { name: 'composite_transactions' },
    { name: 'connector_registry', seeded: true },
    { name: 'durable_requests' },
  ],
  sequences: resourceDefinitions.map((r) => ({ sequence: r.sequence, table: r.table })),
};
