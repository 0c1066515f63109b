// Owns how a stored answer is kept in the `response` column of durable_requests: its JSON, deflated
// when long, and the way back.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { StoredAnswer } from '../api/operation';

/** Marks an answer stored deflated (base64); an answer stored as it is is JSON, so it starts with `{`. */
const DEFLATED = 'deflate:';
/**
 * An answer longer than this is stored deflated (10 to 1 for a composite's answer, which repeats the
 * same shapes). A shorter one is stored as its JSON even when it spills into an overflow page: zlib's
 * per-call set-up, its native buffers and the garbage they drive cost a keyed call more than one or
 * two more pages at its commit. From four pages on, the pages saved (written at the commit, read by
 * every poll of an asynchronous record) outweigh the set-up. Small windows: answers are small.
 */
const DEFLATE_FROM = 16 * 1024;
const DEFLATE_OPTIONS = { level: 1, windowBits: 12, memLevel: 6 };

/**
 * An answer as the `response` column keeps it; `bodyJson`, when given, is the JSON of its body (the
 * same text the answer is then sent as, serialised once).
 */
export function storedAnswerText(answer: StoredAnswer, bodyJson?: string): string {
  const json = bodyJson === undefined ? JSON.stringify(answer) : withBody(answer, bodyJson);
  if (json.length < DEFLATE_FROM) return json;
  return DEFLATED + deflateRawSync(json, DEFLATE_OPTIONS).toString('base64');
}

/** The answer's JSON around its body's JSON. */
function withBody({ body: _body, ...rest }: StoredAnswer, bodyJson: string): string {
  return `${JSON.stringify(rest).slice(0, -1)},"body":${bodyJson}}`;
}

/** The answer a `response` column holds. */
export function answerOfRecord(record: { response: string | null }): StoredAnswer {
  const text = record.response as string;
  const json = text.startsWith(DEFLATED)
    ? inflateRawSync(Buffer.from(text.slice(DEFLATED.length), 'base64'), { windowBits: 12 }).toString('utf8')
    : text;
  return JSON.parse(json) as StoredAnswer;
}
