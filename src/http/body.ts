// Owns reading request bodies: size limit (413), a time limit on receiving them (503), content type
// (415), and safe JSON parsing — nesting depth bounded and prototype-poisoning members refused, in one walk.
import express, { type NextFunction, type Request, type Response } from 'express';
import { refuseNul } from '../api/nul';
import { errors } from '../errors';
import { sendError } from './errorHandler';

/** Deeper than any payload of the contract (a composite body is about 8 levels) and far below a stack risk. */
export const MAX_JSON_DEPTH = 32;
/** Members that reach an object's prototype when code copies or merges parsed JSON. */
const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);
/** The only way JSON text can hold U+0000 (a raw one is a syntax error). */
const NUL_ESCAPE = Buffer.from('\\u0000');

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

/**
 * One walk over a parsed value (iterative: no recursion however deep it nests): too deep, or the name
 * of the first member called __proto__, constructor or prototype — or nothing wrong. V8's JSON.parse
 * itself is not recursive, so parsing first and walking after is safe for any nesting.
 */
function inspect(value: unknown): { tooDeep: true } | { forbidden: string } | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  // Only objects and arrays are pushed.
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [object, number];
    if (depth > MAX_JSON_DEPTH) return { tooDeep: true };
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
      continue;
    }
    for (const key in v) {
      if (FORBIDDEN_MEMBERS.has(key)) return { forbidden: key };
      const item = (v as Record<string, unknown>)[key];
      if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

/** Parses a JSON body; no body at all is `undefined`. */
export function jsonBody(req: Request): unknown {
  const buf = bodyBuffer(req);
  if (!buf) return undefined;
  if (!isJsonType(req.headers['content-type']))
    throw errors.unsupportedMediaType(req.headers['content-type'] ?? 'none');
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    // Node's message quotes the input; say what is wrong without echoing what was sent.
    throw errors.malformedJson(
      (err as Error).message
        .replace(/,\s*".*$/s, '')
        .replace(/\s+in JSON at position.*$/s, '')
        .slice(0, 200),
    );
  }
  const problem = inspect(parsed);
  if (problem && 'tooDeep' in problem) {
    throw errors.badInput(`The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, [
      { message: 'JSON nested too deeply', properties: { maxDepth: MAX_JSON_DEPTH } },
    ]);
  }
  if (problem) throw refusedMember(problem.forbidden);
  // JSON can only carry U+0000 escaped, so a body without that escape needs no walk.
  if (buf.includes(NUL_ESCAPE)) refuseNul(parsed, 'body');
  return parsed;
}

function refusedMember(name: string) {
  return errors.badInput(`Members named __proto__, constructor or prototype are not allowed (found ${name})`, [
    { message: 'Forbidden member name', properties: { member: name } },
  ]);
}
