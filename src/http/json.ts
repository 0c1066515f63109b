// Owns writing JSON answers.
import type { ServerResponse } from 'node:http';
import { rememberedJson } from '../api/serialisedBody';

/**
 * Writes a JSON answer: the text as bytes with their length. Express's res.json reaches the same
 * bytes through res.send (content-type lookup and charset rewrite, ETag and freshness checks), work
 * a JSON API never needs on its hot path (bench/README.md has the figure). Bytes rather than a
 * string: Node then writes them as they are.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = rememberedJson(body) ?? JSON.stringify(body);
  const bytes = Buffer.from(text, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}
