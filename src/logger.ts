// Owns the pino logger: JSON lines with ISO-8601 times (or pino-pretty's text for a terminal), with
// credentials redacted wherever they appear — by key at any depth, and by shape (Basic/Bearer
// credentials, JWTs) inside any string, the message included.
import pino, { type DestinationStream, type Logger } from 'pino';

const CENSOR = '[redacted]';

/** Any key that names a credential, at any depth. */
const SENSITIVE_KEY = /authorization|password|passwd|secret|token|cookie|api[-_]?key|credential|private[-_]?key/i;
/** Credentials recognisable by their shape inside free text. */
const SENSITIVE_TEXT = [
  /\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  /(\/\/[^/\s:@]+:)[^@\s/]+@/g, // user:password@ in URLs
];
/** What every shape above begins with: text without any of these holds none (one test, not three replaces). */
const MAYBE_SENSITIVE = /basic|bearer|eyJ|\/\//i;
const MAX_DEPTH = 8;

export function scrubText(text: string): string {
  if (!MAYBE_SENSITIVE.test(text)) return text;
  let out = text;
  for (const pattern of SENSITIVE_TEXT)
    out = out.replace(pattern, (match, prefix: unknown) =>
      typeof prefix === 'string' && prefix.startsWith('//') ? `${prefix}${CENSOR}@` : CENSOR,
    );
  return out;
}

/** Verdicts of SENSITIVE_KEY by key: log objects repeat the same few keys line after line. */
const keyVerdicts = new Map<string, boolean>();

function isSensitiveKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SENSITIVE_KEY.test(key);
    if (keyVerdicts.size < 1000) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/** A copy of a log object with credentials replaced; values that hold none are returned as they are. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: scrubText(value.message) };
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) out[k] = isSensitiveKey(k) ? CENSOR : redact(record[k], depth + 1);
  return out;
}

/**
 * pino-pretty as an in-process stream (no worker thread), loaded only when asked for: production
 * logs stay plain JSON and never pay for it.
 */
function prettyStream(): DestinationStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when LOG_FORMAT=pretty asks for it
  const pretty = require('pino-pretty') as (options: { colorize: boolean; sync: boolean }) => DestinationStream;
  return pretty({ colorize: process.stdout.isTTY === true, sync: true });
}

/**
 * `format` pretty writes pino-pretty's text to stdout; `destination` (tests) takes the JSON lines instead.
 * JSON lines go to stdout synchronously, one write per line on the event loop: pino's default hands
 * each line to the thread pool, which costs a request more (thread hand-offs) than the write itself,
 * and buffers without bound when stdout cannot keep up — here a slow log reader slows the server
 * down instead of growing its memory.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  format: 'json' | 'pretty' = 'json',
): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => redact(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // The message (and any format arguments) is scrubbed too.
          // Each string scrubbed once; the arguments are copied only when one changed.
          let scrubbed: Parameters<typeof method> | undefined;
          for (let i = 0; i < args.length; i++) {
            const a = args[i];
            if (typeof a !== 'string') continue;
            const clean = scrubText(a);
            if (clean !== a) (scrubbed ??= [...args] as Parameters<typeof method>)[i] = clean;
          }
          return method.apply(this, scrubbed ?? args);
        },
      },
    },
    destination ?? (format === 'pretty' ? prettyStream() : pino.destination({ fd: 1, sync: true })),
  );
}
