// Owns assembling the connectors feature for one app: registry, outbound guard, token cache, render pool, runner,
// and the operations they serve, with start (first sync, file watch) and stop.
import type { Knex } from 'knex';
import type { Operation, Services } from '../api/operation';
import { TokenCache } from './oauth';
import { connectorOperations } from './operations';
import { Outbound } from './outbound';
import { ConnectorRegistry } from './registry';
import { RenderPool } from './renderPool';
import { ConnectorRunner } from './run';
import { observerOf } from '../observe';
import { StepRenderer } from './stepRequest';

export interface Connectors {
  operations: Operation[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createConnectors(services: Services, knex: Knex, env: Record<string, string | undefined>): Connectors {
  const { config, logger } = services;
  const registry = new ConnectorRegistry({
    knex,
    logger,
    file: config.connectorsRegistry,
    secretsFile: config.connectorSecretsFile,
    env,
  });
  const outbound = new Outbound(config.connectorsAllowedHosts, config.connectorTimeoutMs);
  const pool = new RenderPool(config.connectorTemplateMaxChars);
  const renderer = new StepRenderer(pool, () => registry.secrets, config.connectorTimeoutMs);
  const runner = new ConnectorRunner(outbound, new TokenCache(outbound), renderer, logger, observerOf(knex));
  return {
    operations: connectorOperations(registry, runner),
    start: () => registry.start(),
    async stop() {
      registry.stop();
      await Promise.all([outbound.close(), pool.close()]);
    },
  };
}
