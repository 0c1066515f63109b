// Owns the registry sync endpoints (/rest/admin/v1/connectors/sync): its status, and a sync on demand.
import { Type } from '@sinclair/typebox';
import { ADMINS, type Operation } from '../api/operation';
import { errors } from '../errors';
import { base } from './operationAnswers';
import type { ConnectorRegistry } from './registry';

const SyncStatusSchema = Type.Object(
  {},
  { additionalProperties: true, description: 'registry file, active revision, last attempt and its problems' },
);

export function syncOperations(registry: ConnectorRegistry): Operation[] {
  return [
    {
      ...base,
      operationId: 'getConnectorSync',
      api: 'admin',
      method: 'get',
      path: '/connectors/sync',
      tag: 'Connectors',
      summary: 'When the connector registry was last synced, and why a sync was refused',
      roles: ADMINS,
      responses: [{ status: 200, description: 'Sync status', schema: SyncStatusSchema }],
      handler: async () => ({ status: 200, body: await registry.status() }),
    },
    {
      ...base,
      operationId: 'syncConnectors',
      api: 'admin',
      method: 'post',
      path: '/connectors/sync',
      tag: 'Connectors',
      summary: 'Sync CONNECTORS_REGISTRY now (all or nothing)',
      roles: ADMINS,
      responses: [
        { status: 200, description: 'Synced; the status after the sync', schema: SyncStatusSchema },
        { status: 400, description: 'The file was refused; the previous definitions stay in force' },
        { status: 409, description: 'CONNECTORS_REGISTRY is not set' },
      ],
      handler: async () => {
        if (!registry.configured)
          throw errors.conflict('CONNECTORS_REGISTRY is not set; there is no registry file to sync');
        const result = await registry.sync('api');
        if (!result.ok) {
          throw errors.badInput(
            'The connectors registry was refused; the previous definitions stay in force',
            result.problems.map((p) => ({ message: `${p.path}: ${p.message}`, properties: { path: p.path } })),
          );
        }
        return { status: 200, body: await registry.status() };
      },
    },
  ];
}
