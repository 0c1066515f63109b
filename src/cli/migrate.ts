// `npm run migrate`: runs the migrations against DATABASE_URL and exits.
import 'dotenv/config';
import { loadConfig } from '../config';
import { connectDatabase } from '../db/connect';
import { migrateLatest } from '../schema/migrate';

async function main(): Promise<void> {
  const knex = await connectDatabase(loadConfig());
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
