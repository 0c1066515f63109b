// Owns reading request bodies: size limit (413), a time limit on receiving them (503), content type
// (415), and safe JSON parsing — nesting depth bounded and prototype-poisoning members refused.
import express, { type NextFunction, type Request, type Response } from 'express';
import sjson from 'secure-json-parse';
import { errors } from '../errors';
import { sendError } from './errorHandler';

/** Deeper than any payload of the contract (a composite body is about 8 levels) and far below a stack risk. */
export const MAX_JSON_DEPTH = 32;
/** Members that reach an object's prototype when code copies or merges parsed JSON. */
const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads the body as bytes (any content type, up to `limitBytes`). When `timeoutMs` is given, a client
 * that has not finished sending the body by then is answered 503 and its connection closed.
 */
export function rawBody(limitBytes: number, timeoutMs?: number) {
  const read = express.raw({ type: () => true, limit: limitBytes });
  if (!timeoutMs) return read;
  return (req: Request, res: Response, next: NextFunction) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      res.setHeader('Connection', 'close');
      sendError(res, errors.requestTimeout());
    }, timeoutMs);
    timer.unref();
    read(req, res, (err?: unknown) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      next(err);
    });
  };
}

export function bodyBuffer(req: Request): Buffer | undefined {
  return Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
}

function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** The deepest nesting of arrays and objects in JSON text, found without parsing it (so before any recursion). */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > stopAbove) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** The path of the first forbidden member name anywhere in a parsed value, or undefined. */
function forbiddenMember(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      stack.push(...v);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_MEMBERS.has(key)) return key;
      stack.push((v as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/** Parses a JSON body; no body at all is `undefined`. */
export function jsonBody(req: Request): unknown {
  const buf = bodyBuffer(req);
  if (!buf) return undefined;
  if (!isJsonType(req.headers['content-type'])) throw errors.unsupportedMediaType(req.headers['content-type'] ?? 'none');
  const text = buf.toString('utf8');
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw errors.badInput(`The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, [
      { message: 'JSON nested too deeply', properties: { maxDepth: MAX_JSON_DEPTH } },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Node's message quotes the input; say what is wrong without echoing what was sent.
    throw errors.malformedJson((err as Error).message.replace(/,\s*".*$/s, '').replace(/\s+in JSON at position.*$/s, '').slice(0, 200));
  }
  if (parsed === null || typeof parsed !== 'object') return parsed;
  try {
    sjson.scan(parsed, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw refusedMember('__proto__ or constructor');
  }
  const member = forbiddenMember(parsed);
  if (member) throw refusedMember(member);
  return parsed;
}

function refusedMember(name: string) {
  return errors.badInput(`Members named __proto__, constructor or prototype are not allowed (found ${name})`, [
    { message: 'Forbidden member name', properties: { member: name } },
  ]);
}
