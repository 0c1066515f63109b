// Owns building the route table: every operation — the resources, what extensions plug in (connectors),
// the composite, batch and asynchronous-call APIs — compiled once, with the durable requests that run an
// operation by Idempotency-Key or asynchronously. createApp routes by it; `npm run openapi` describes it
// without an app or a database.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { compileOperations, type CompiledOp } from './api/dispatch';
import type { Operation, Services } from './api/operation';
import type { Config } from './config';
import { batchOperations } from './batch/operation';
import { compositeOperation } from './composite/operation';
import { asyncOperations } from './durable/api';
import { DurableRequests } from './durable/requests';
import { idCodec } from './model/publicIds';
import { resourceOperations } from './resources';

/** What a feature is handed to build its operations. */
export interface RouteTableParts {
  /** What handlers get. */
  services: Services;
  /** The pool, for what opens transactions or keeps state beside them (composite, batch, connectors' registry); never a handler's. */
  pool: Knex;
  durable: DurableRequests;
  /** The compiled table, for operations that dispatch into it (composite, batch); ready once building is done. */
  routeTable: () => CompiledOp[];
}

/** A feature that adds operations to the route table (connectors, and the built-in APIs below). */
export type OperationSource = (parts: RouteTableParts) => Operation[];

export interface RouteTableOptions {
  config: Config;
  /** The pool; building never queries it. */
  knex: Knex;
  logger: Logger;
  /** Operations of extensions (connectors), listed after the resources. */
  extraOperations?: OperationSource;
}

export interface RouteTable extends RouteTableParts {
  operations: Operation[];
  compiled: CompiledOp[];
}

/** The APIs every server has, in the order the route table lists them (after the resources and extensions). */
const BUILT_IN: OperationSource[] = [
  ({ routeTable, pool }) => [compositeOperation(routeTable, pool)],
  ({ routeTable, pool }) => batchOperations(routeTable, pool),
  ({ durable }) => asyncOperations(durable),
];

export function buildRouteTable(opts: RouteTableOptions): RouteTable {
  let compiled: CompiledOp[] = [];
  const routeTable = () => compiled;
  const services: Services = { config: opts.config, ids: idCodec(opts.config.idPrefix), logger: opts.logger };
  const pool = opts.knex;
  const durable = new DurableRequests({ services, pool }, routeTable);
  const parts: RouteTableParts = { services, pool, durable, routeTable };
  const sources: OperationSource[] = [
    () => resourceOperations,
    ...(opts.extraOperations ? [opts.extraOperations] : []),
    ...BUILT_IN,
  ];
  const operations = sources.flatMap((source) => source(parts));
  compiled = compileOperations(operations);
  return { ...parts, operations, compiled };
}
