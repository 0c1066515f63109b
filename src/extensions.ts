// Owns the operations that join the route table beside the resources (connectors), and their lifecycle.
import type { Operation, Services } from './api/operation';
import { createConnectors, type Connectors } from './connectors';

export interface Extensions {
  /** The hook createApp calls with its services; returns the extra operations. */
  extraOperations(services: Services): Operation[];
  /** After migrations: first registry sync and file watch. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createExtensions(env: Record<string, string | undefined> = process.env): Extensions {
  let connectors: Connectors | undefined;
  return {
    extraOperations(services) {
      connectors = createConnectors(services, env);
      return connectors.operations;
    },
    start: async () => connectors?.start(),
    stop: async () => connectors?.stop(),
  };
}

/** Operations only, without the registry's start/stop (the registry still serves what the database holds). */
export function extraOperations(services: Services): Operation[] {
  return createExtensions().extraOperations(services);
}
