// Owns the operations that join the route table beside the resources (connectors), and the lifecycle
// of what runs beside the requests: the connector registry's sync and the asynchronous-call worker.
import type { Operation } from './api/operation';
import { createConnectors, type Connectors } from './connectors';
import type { DurableRequests } from './durable/requests';
import type { OperationSource, RouteTableParts } from './routeTable';

export interface Extensions {
  /** The hook the route table builder calls; returns the extra operations. */
  extraOperations: OperationSource;
  /** After migrations: first registry sync and file watch; the asynchronous worker picks up unfinished work. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createExtensions(env: Record<string, string | undefined> = process.env): Extensions {
  let connectors: Connectors | undefined;
  let durableRequests: DurableRequests | undefined;
  return {
    extraOperations({ services, pool, durable }) {
      durableRequests = durable;
      connectors = createConnectors(services, pool, env);
      return connectors.operations;
    },
    start: async () => {
      await connectors?.start();
      await durableRequests?.worker.start();
    },
    stop: async () => {
      // Running asynchronous requests finish first; what is accepted stays for the next start.
      await durableRequests?.worker.stop();
      await connectors?.stop();
    },
  };
}

/** Operations only, without the registry's start/stop (the registry still serves what the database holds). */
export function extraOperations(parts: RouteTableParts): Operation[] {
  return createExtensions().extraOperations(parts);
}
