// knex CLI configuration, derived from the same environment the server reads (DATABASE_URL).
// `npm run migrate` uses src/cli/migrate.ts with the same settings; this file serves knex's own CLI.
import 'dotenv/config';
import { loadConfig } from './src/config';
import { knexConfig } from './src/db/knex';
import { migrationSource } from './src/schema/migrate';

const config = loadConfig();

export default { ...knexConfig(config.database, config.db), migrations: { migrationSource } };
