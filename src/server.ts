// Owns the process: read config, connect, migrate, create the first admin, listen (and prove it), and
// stop cleanly on SIGTERM / SIGINT. Anything that stops the start is one line on stderr and a non-zero exit.
import 'dotenv/config';
import http from 'node:http';
import type { Knex } from 'knex';
import { loadConfig, type Config } from './config';
import { createApp } from './app';
import { connectDatabase, reason } from './db/connect';
import { migrateLatest } from './schema/migrate';
import { ensureAdmin } from './auth/bootstrap';
import { createLogger } from './logger';
import { createExtensions } from './extensions';
import { answerClientErrors } from './http/clientError';
import { listen } from './process/listen';
import { createShutdown } from './process/shutdown';

/** Exit codes of a failed start, so a supervisor can tell them apart. */
const EXIT = { config: 2, database: 3, listen: 4 } as const;

function fail(line: string, code: number): never {
  process.stderr.write(`cannot start: ${line}\n`);
  process.exit(code);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    process.stderr.write(`configuration error: ${(err as Error).message}\n`);
    process.exit(EXIT.config);
  }
}

async function openDatabase(config: Config): Promise<Knex> {
  let knex: Knex;
  try {
    knex = await connectDatabase(config);
  } catch (err) {
    fail((err as Error).message, EXIT.database);
  }
  try {
    await migrateLatest(knex);
    return knex;
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    fail(`the database migrations failed: ${reason(err)}`, EXIT.database);
  }
}

/** http://host:port for the log, with an IPv6 address in brackets. */
function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const knex = await openDatabase(config);
  const admin = await ensureAdmin(knex, config.adminUsername, config.adminPassword).catch((err: unknown) =>
    fail(`cannot create the first admin: ${reason(err)}`, EXIT.database),
  );
  if (admin.generatedPassword) {
    // Printed once, on the console only (not through the log pipeline), so the operator can sign in.
    process.stdout.write(
      `\nCreated admin user "${config.adminUsername}" with generated password: ${admin.generatedPassword}\nStore it now; it is not shown again.\n\n`,
    );
  }
  if (admin.passwordNotUsed) {
    logger.warn(
      'ADMIN_PASSWORD was not used: the database already has users. To set a password: npm run admin -- reset-password <username>',
    );
  }

  const extensions = createExtensions();
  const { app, durable } = createApp({ config, knex, logger, extraOperations: extensions.extraOperations });
  await extensions.start();
  // The asynchronous worker picks up work left unfinished by an earlier process.
  await durable.worker.start();
  const server = http.createServer(
    {
      // Node's own limits agree with REQUEST_TIMEOUT_MS; it checks them on this interval (30 s by
      // default, which let slow headers run to 52 s under a 30 s limit).
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
    },
    app,
  );
  answerClientErrors(server, logger);

  // pino writes asynchronously: its last lines ("shutting down", "stopped") reach stdout, in order, before the exit.
  const exit = (code: number) => logger.flush(() => process.exit(code));
  const shutdown = createShutdown({ server, logger, timeoutMs: config.shutdownTimeoutMs, exit });
  // In this order after the requests in flight: what takes work (the asynchronous worker lets its
  // running requests finish; what is accepted stays for the next start), the connectors, then the
  // database last.
  shutdown.onStop('async worker', () => durable.worker.stop());
  shutdown.onStop('connectors', () => extensions.stop());
  shutdown.onStop('database', () => knex.destroy());
  process.on('SIGTERM', () => void shutdown.begin('SIGTERM'));
  process.on('SIGINT', () => void shutdown.begin('SIGINT'));

  try {
    const address = await listen(server, config.host, config.port);
    logger.info({ url: urlOf(config.host, address.port), database: config.database.kind }, 'listening');
  } catch (err) {
    await durable.worker.stop().catch(() => undefined);
    await extensions.stop().catch(() => undefined);
    await knex.destroy().catch(() => undefined);
    fail((err as Error).message, EXIT.listen);
  }
}

void main();
