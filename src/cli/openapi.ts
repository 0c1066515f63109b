// `npm run openapi`: writes openapi/openapi.json, the full OpenAPI 3.1 document, from the route table
// (the same document GET /openapi.json serves), so it can be read and diffed without a running server.
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import knexFactory from 'knex';
import { createApp } from '../app';
import { loadConfig } from '../config';
import { extraOperations } from '../extensions';
import { buildOpenApi } from '../openapi/build';

export function currentDocument(): unknown {
  // No database is touched: createApp only needs a handle to build the route table.
  const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
  const { operations } = createApp({ config: loadConfig({}), knex, logger: pino({ level: 'silent' }), extraOperations });
  void knex.destroy();
  return buildOpenApi(operations.map((c) => c.op));
}

if (require.main === module) {
  const target = path.resolve(process.cwd(), 'openapi/openapi.json');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, `${JSON.stringify(currentDocument(), null, 2)}\n`);
  process.stdout.write(`wrote ${target}\n`);
}
