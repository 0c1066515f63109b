// Owns following one redirect: the next hop's request, its credentials and secret body kept from other origins.
import { OutboundNetworkError, OutboundRuleError } from './outboundErrors';
import type { OutboundRequest } from './outboundMessages';

export const MAX_REDIRECTS = 5;

/** Headers that always carry credentials, whoever set them. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

export function redirected(req: OutboundRequest, status: number, location: string): OutboundRequest {
  let url: URL;
  try {
    url = new URL(location, req.url);
  } catch {
    throw new OutboundNetworkError('BAD_REDIRECT', 'the server redirected to an invalid location');
  }
  const headers = { ...req.headers };
  if (url.origin !== req.url.origin) {
    // Credentials are for the origin they were written for; once dropped they stay dropped, even on a hop back.
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (CREDENTIAL_HEADERS.has(lower) || req.secretHeaders?.has(lower)) delete headers[name];
    }
  }
  const keepsMethod = status === 307 || status === 308 || req.method === 'GET' || req.method === 'HEAD';
  if (keepsMethod) {
    if (req.secretBody && req.body !== undefined && url.origin !== req.url.origin) {
      throw new OutboundRuleError(
        'redirect',
        `the answer (HTTP ${status}) redirects the request body, which holds a secret, to another origin; it is not sent again`,
      );
    }
    return { ...req, url, headers };
  }
  for (const name of Object.keys(headers)) if (/^content-(type|length)$/i.test(name)) delete headers[name];
  return { method: 'GET', url, headers };
}
