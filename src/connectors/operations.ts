// Owns the connector endpoints of SPEC §5 in the route table: sync, listings and runs, in that order.
import type { Operation } from '../api/operation';
import { executeOperations } from './executeOperations';
import { listOperations } from './listOperations';
import type { ConnectorRegistry } from './registry';
import type { ConnectorRunner } from './run';
import { syncOperations } from './syncOperations';

export function connectorOperations(registry: ConnectorRegistry, runner: ConnectorRunner): Operation[] {
  return [...syncOperations(registry), ...listOperations(registry), ...executeOperations(registry, runner)];
}
