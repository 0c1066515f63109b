// Owns the shape of an outbound request and its response, and reading an answer's headers and capped body.
import type { Dispatcher } from 'undici';
import { OutboundNetworkError } from './outboundErrors';

export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Which redirects a request follows: none (the 3xx is the answer), same-origin only, or any (secrets dropped). */
export const REDIRECT_POLICIES = ['none', 'same-origin', 'any'] as const;
export type RedirectPolicy = (typeof REDIRECT_POLICIES)[number];

export interface OutboundRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Lower-case names of headers that authentication or get_secret() produced: never sent to another origin. */
  secretHeaders?: ReadonlySet<string>;
  /** The body holds a secret: never re-sent to another origin. */
  secretBody?: boolean;
  /** Default 'same-origin'. */
  redirects?: RedirectPolicy;
}

export interface OutboundResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function readCapped(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new OutboundNetworkError('RESPONSE_TOO_LARGE', `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
