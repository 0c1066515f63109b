// `npm run migrate`: runs the migrations against DATABASE_URL and exits.
import 'dotenv/config';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config';
import { createKnex } from '../db/knex';
import { migrateLatest } from '../db/migrate';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.database.kind === 'sqlite' && config.database.filename !== ':memory:') fs.mkdirSync(path.dirname(config.database.filename), { recursive: true });
  const knex = createKnex(config.database, config.db);
  try {
    await migrateLatest(knex);
    process.stdout.write('migrations are up to date\n');
  } finally {
    await knex.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`migration failed: ${(err as Error).message}\n`);
  process.exit(1);
});
