// Owns writing JSON answers.
import type { ServerResponse } from 'node:http';

/** Bodies whose JSON an Idempotency-Key call already wrote for its record (src/durable/keyed.ts). */
const written = new WeakMap<object, string>();

/** `text` is the JSON of `body`, which will not change: sendJson sends it instead of serialising again. */
export function rememberJson(body: object, text: string): void {
  written.set(body, text);
}

/**
 * Writes a JSON answer: the text as bytes with their length. Express's res.json reaches the same
 * bytes through res.send (content-type lookup and charset rewrite, ETag and freshness checks), work
 * a JSON API never needs on its hot path (bench/README.md has the figure). Bytes rather than a
 * string: Node then writes them as they are.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = (typeof body === 'object' && body !== null && written.get(body)) || JSON.stringify(body);
  const bytes = Buffer.from(text, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}
