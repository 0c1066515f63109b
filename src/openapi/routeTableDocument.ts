// Owns the OpenAPI document of the route table as a server builds it, without an app or a database:
// what `npm run openapi` writes and a test compares with openapi/openapi.json.
import knexFactory from 'knex';
import pino from 'pino';
import { loadConfig } from '../config';
import { extraOperations } from '../extensions';
import { buildRouteTable } from '../routeTable';
import { buildOpenApi } from './build';

export function routeTableDocument(): unknown {
  // A query builder without a connection: building the table never queries, so nothing is opened.
  const knex = knexFactory({ client: 'better-sqlite3', useNullAsDefault: true });
  const { operations } = buildRouteTable({
    config: loadConfig({}),
    knex,
    logger: pino({ level: 'silent' }),
    extraOperations,
  });
  return buildOpenApi(operations);
}
