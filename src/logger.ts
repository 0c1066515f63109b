// Owns the pino logger: JSON lines, with credential-bearing keys redacted wherever they appear.
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'password', '*.password', 'secret', '*.secret', 'client_secret', '*.client_secret', 'token', '*.token', 'access_token', '*.access_token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined }, destination);
}
