// Owns the operations that join the route table beside the resources (connectors), and their lifecycle.
import type { Operation, Services } from './api/operation';

export function extraOperations(_services: Services): Operation[] {
  return [];
}
