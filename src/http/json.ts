// Owns writing JSON answers.
import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON answer: the text as bytes with their length. Express's res.json reaches the same
 * bytes through res.send (content-type lookup and charset rewrite, ETag and freshness checks), work
 * a JSON API never needs on its hot path (bench/README.md has the figure). Bytes rather than a
 * string: Node then writes them as they are.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}
