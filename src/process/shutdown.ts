// Owns stopping the process cleanly: stop accepting, tell every keep-alive client to go (Connection:
// close) while the requests in flight finish, bounded by SHUTDOWN_TIMEOUT_MS, then run the stop hooks
// (connectors, a future async worker, the database last) and exit 0. A second signal exits at once.
import type { Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/**
 * A terminal's Ctrl-C reaches node twice: from the terminal, and passed on by npm. Signals this close
 * together are one request to stop; a later one means "now".
 */
export const SAME_REQUEST_MS = 1000;

export interface Shutdown {
  /** True once a stop has begun. */
  readonly stopping: boolean;
  /**
   * Something to stop after the requests in flight have finished, in the order registered: register
   * anything that takes work (an async worker) before what it uses (the database).
   */
  onStop(name: string, stop: () => Promise<void>): void;
  /** Begins the stop (what SIGTERM and SIGINT call); a second call a second or more later exits at once. */
  begin(reason: string): Promise<void>;
}

export interface ShutdownOptions {
  server: Server;
  logger: Logger;
  timeoutMs: number;
  exit?: (code: number) => void;
}

export function createShutdown(opts: ShutdownOptions): Shutdown {
  const { server, logger, timeoutMs } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const hooks: { name: string; stop: () => Promise<void> }[] = [];
  const inFlight = new Set<ServerResponse>();
  let startedAt: number | undefined;

  // Before the app sees the request, so even an answer sent at once carries the header.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (startedAt !== undefined) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  async function drain(): Promise<void> {
    // An answer with Connection: close ends its socket, so the client never reuses it for a request
    // that would meet a closed socket; idle keep-alive sockets are closed now (server.close does too).
    for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    if (await Promise.race([closed.then(() => false), timedOut])) {
      logger.warn(
        { inFlight: inFlight.size, timeoutMs },
        'requests still running at the shutdown time-out; closing their connections',
      );
      server.closeAllConnections();
    }
    clearTimeout(timer);
  }

  return {
    get stopping() {
      return startedAt !== undefined;
    },
    onStop(name, stop) {
      hooks.push({ name, stop });
    },
    async begin(reason) {
      if (startedAt !== undefined) {
        if (Date.now() - startedAt < SAME_REQUEST_MS) return;
        logger.warn({ signal: reason }, 'second signal: exiting at once');
        return exit(1);
      }
      startedAt = Date.now();
      logger.info({ signal: reason, inFlight: inFlight.size, timeoutMs }, 'shutting down');
      await drain();
      let failed = false;
      for (const hook of hooks) {
        try {
          await hook.stop();
        } catch (err) {
          failed = true;
          logger.error({ hook: hook.name, error: (err as Error)?.name }, 'a stop hook failed');
        }
      }
      logger.info({ durationMs: Date.now() - startedAt }, 'stopped');
      exit(failed ? 1 : 0);
    },
  };
}
