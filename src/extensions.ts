// Owns the operations that join the route table beside the resources (connectors), and their
// lifecycle: the connector registry's sync and file watch.
import type { Operation } from './api/operation';
import { createConnectors, type Connectors } from './connectors';
import type { OperationSource, RouteTableParts } from './routeTable';

export interface Extensions {
  /** The hook the route table builder calls; returns the extra operations. */
  extraOperations: OperationSource;
  /** After migrations: first registry sync and file watch. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createExtensions(env: Record<string, string | undefined> = process.env): Extensions {
  let connectors: Connectors | undefined;
  return {
    extraOperations({ services, pool }) {
      connectors = createConnectors(services, pool, env);
      return connectors.operations;
    },
    start: async () => connectors?.start(),
    stop: async () => connectors?.stop(),
  };
}

/** Operations only, without the registry's start/stop (the registry still serves what the database holds). */
export function extraOperations(parts: RouteTableParts): Operation[] {
  return createExtensions().extraOperations(parts);
}
