// Owns the process: read config, connect, migrate, create the first admin, listen, shut down gracefully.
import 'dotenv/config';
import type { Knex } from 'knex';
import { loadConfig, type Config } from './config';
import { createApp } from './app';
import { connectDatabase } from './db/connect';
import { migrateLatest } from './db/migrate';
import { ensureAdmin } from './auth/bootstrap';
import { createLogger } from './logger';
import { createExtensions } from './extensions';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`configuration error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  let knex: Knex;
  try {
    knex = await connectDatabase(config);
  } catch (err) {
    logger.fatal({ reason: (err as Error).message }, 'cannot start');
    process.stderr.write(`cannot start: ${(err as Error).message}\n`);
    process.exit(3);
  }
  await migrateLatest(knex);
  const admin = await ensureAdmin(knex, config.adminUsername, config.adminPassword);
  if (admin.generatedPassword) {
    // Printed once, on the console only (not through the log pipeline), so the operator can sign in.
    process.stdout.write(`\nCreated admin user "${config.adminUsername}" with generated password: ${admin.generatedPassword}\nStore it now; it is not shown again.\n\n`);
  }
  const extensions = createExtensions();
  const { app } = createApp({ config, knex, logger, extraOperations: extensions.extraOperations });
  await extensions.start();
  const server = app.listen(config.port, config.host, () => logger.info({ host: config.host, port: config.port, database: config.database.kind }, 'listening'));
  server.requestTimeout = config.requestTimeoutMs;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(() => void extensions.stop().then(() => knex.destroy()).then(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
