// Owns turning a call's options into what is sent: handling headers, query string, payload, Basic credentials.
import type { HandlingOptions, QueryParams, WriteOptions } from './options';

/** The headers of the options that change how a call is handled and whether it is durable. */
export function handlingHeaders(
  opts: HandlingOptions & WriteOptions & { async?: boolean; wait?: number },
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.dryRun !== undefined) headers['GW-DoNotCommit'] = String(opts.dryRun);
  if (opts.unknownProperties) headers['GW-UnknownPropertyHandling'] = opts.unknownProperties;
  if (opts.unknownQueryParams) headers['GW-UnknownQueryParamHandling'] = opts.unknownQueryParams;
  if (opts.idempotencyKey !== undefined) headers['Idempotency-Key'] = opts.idempotencyKey;
  if (opts.async) headers.Prefer = opts.wait ? `respond-async, wait=${opts.wait}` : 'respond-async';
  return headers;
}

export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function queryString(params: QueryParams | undefined): string {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export function encodePayload(payload: unknown): { body?: BodyInit; contentType?: string } {
  if (payload === undefined) return {};
  if (typeof payload === 'string') return { body: payload, contentType: 'text/plain; charset=utf-8' };
  if (payload instanceof Uint8Array || payload instanceof ArrayBuffer)
    return { body: payload as BodyInit, contentType: 'application/octet-stream' };
  return { body: JSON.stringify(payload), contentType: 'application/json' };
}
