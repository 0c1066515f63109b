// Owns every outbound connector request: the https-only and public-address-only rule (checked on the
// URL, and again on the address DNS actually returned, at connect time, so DNS tricks cannot reach
// loopback, private ranges or 169.254.169.254), redirects re-checked hop by hop, a time-out covering
// connect, headers and body, and a cap on the response size. Redirects follow the request's policy
// (none, same-origin, any); on a cross-origin hop every header that carries a credential is dropped.
// Hosts in CONNECTORS_ALLOWED_HOSTS are exempt from the rule (development and tests).
import dns, { type LookupAddress } from 'node:dns';
import net from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { classifyAddress, describeAddressClass } from './addressRange';

export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export type OutboundRule = 'https-only' | 'public-address-only' | 'scheme' | 'redirect';

/** Which redirects a request follows: none (the 3xx is the answer), same-origin only, or any (secrets dropped). */
export const REDIRECT_POLICIES = ['none', 'same-origin', 'any'] as const;
export type RedirectPolicy = (typeof REDIRECT_POLICIES)[number];

/** Headers that always carry credentials, whoever set them. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** A request refused by the outbound rule; nothing was sent. */
export class OutboundRuleError extends Error {
  override name = 'OutboundRuleError';
  constructor(
    readonly rule: OutboundRule,
    message: string,
  ) {
    super(message);
  }
}

/** A request that was tried and failed below HTTP: refused connection, DNS, time-out, reset, too large. */
export class OutboundNetworkError extends Error {
  override name = 'OutboundNetworkError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Only 'unicast' addresses are public; an IPv6 address embedding IPv4 is judged by its IPv4 address. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address).range === 'unicast';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** net.connect's `lookup`: resolves, then refuses unless every address is public. */
function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) {
      return callback(
        new OutboundRuleError(
          'public-address-only',
          `${hostname} resolves to ${describeAddressClass(classifyAddress(bad.address))}; connectors may only reach public addresses`,
        ),
        '',
      );
    }
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
}

interface HostRule {
  host: string;
  port: string | undefined;
}

function parseHostRule(entry: string): HostRule {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: `[${bracketed[1]}]`, port: bracketed[2] };
  if (net.isIPv6(entry)) return { host: `[${entry}]`, port: undefined };
  const colon = entry.lastIndexOf(':');
  return colon > 0 ? { host: entry.slice(0, colon), port: entry.slice(colon + 1) } : { host: entry, port: undefined };
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

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

export class Outbound {
  private readonly allowed: HostRule[];
  /** For hosts under the rule: every connection's resolved address is checked. */
  private readonly guarded: Agent;
  /** For exempt hosts only. */
  private readonly open: Agent;

  constructor(
    allowedHosts: readonly string[],
    private readonly timeoutMs: number,
  ) {
    this.allowed = allowedHosts.map((h) => parseHostRule(h.toLowerCase()));
    this.guarded = new Agent({ connect: { lookup: guardedLookup as unknown as typeof dns.lookup } });
    this.open = new Agent();
  }

  isExempt(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    return this.allowed.some((r) => r.host === host && (r.port === undefined || r.port === defaultPort(url)));
  }

  /** Throws OutboundRuleError when the URL may not be requested; returns the dispatcher to use. */
  check(url: URL): Dispatcher {
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new OutboundRuleError('scheme', `${url.protocol.replace(':', '')} URLs cannot be requested; use https`);
    if (this.isExempt(url)) return this.open;
    if (url.protocol !== 'https:')
      throw new OutboundRuleError(
        'https-only',
        `${url.host} is reached over http; connectors must use https (unless the host is in CONNECTORS_ALLOWED_HOSTS)`,
      );
    if (url.username || url.password)
      throw new OutboundRuleError('scheme', 'URLs with embedded credentials are not allowed; use authentication');
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(literal) && !isPublicAddress(literal)) {
      throw new OutboundRuleError(
        'public-address-only',
        `${url.hostname} is ${describeAddressClass(classifyAddress(literal))}; connectors may only reach public addresses`,
      );
    }
    return this.guarded;
  }

  /** Sends one request, following redirects as its policy allows and only while each hop passes the rule. */
  async send(req: OutboundRequest): Promise<OutboundResponse> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      let current = req;
      for (let hop = 0; ; hop++) {
        const dispatcher = this.check(current.url);
        const res = await request(current.url, {
          dispatcher,
          method: current.method as Dispatcher.HttpMethod,
          headers: current.headers,
          body: current.body,
          signal: controller.signal,
        });
        const location = res.headers.location;
        const policy = current.redirects ?? 'same-origin';
        if (
          res.statusCode >= 300 &&
          res.statusCode < 400 &&
          res.statusCode !== 304 &&
          typeof location === 'string' &&
          policy !== 'none'
        ) {
          await res.body.dump();
          if (hop >= MAX_REDIRECTS)
            throw new OutboundNetworkError('TOO_MANY_REDIRECTS', `more than ${MAX_REDIRECTS} redirects`);
          current = redirected(current, res.statusCode, location);
          // The address rule first: its refusal says more than the redirect policy's.
          this.check(current.url);
          if (policy === 'same-origin' && current.url.origin !== req.url.origin) {
            throw new OutboundRuleError(
              'redirect',
              `the answer (HTTP ${res.statusCode}) redirects to another origin; this request follows same-origin redirects only (a step may set "follow_redirects": "any")`,
            );
          }
          continue;
        }
        return { status: res.statusCode, headers: flatHeaders(res.headers), body: await readCapped(res.body) };
      }
    } catch (err) {
      throw classify(err, timedOut, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.guarded.close(), this.open.close()]);
  }
}

function redirected(req: OutboundRequest, status: number, location: string): OutboundRequest {
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

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
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

function classify(err: unknown, timedOut: boolean, timeoutMs: number): Error {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRuleError || e instanceof OutboundNetworkError) return e;
  }
  if (timedOut)
    return new OutboundNetworkError('TIMEOUT', `no complete answer within ${timeoutMs} ms (CONNECTOR_TIMEOUT_MS)`);
  const code = String((err as { code?: string })?.code ?? (err as Error)?.name ?? 'ERROR')
    .replace(/[^A-Z0-9_]/gi, '')
    .slice(0, 40);
  return new OutboundNetworkError(code, `the request failed (${code})`);
}
