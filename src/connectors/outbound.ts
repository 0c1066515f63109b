// Owns every outbound connector request: the https-only and public-address-only rule (checked on the
// URL, and again on the address DNS actually returned, at connect time, so DNS tricks cannot reach
// loopback, private ranges or 169.254.169.254), redirects re-checked hop by hop, a time-out covering
// connect, headers and body, and a cap on the response size. Redirects follow the request's policy
// (none, same-origin, any); on a cross-origin hop every header that carries a credential is dropped.
// Hosts in CONNECTORS_ALLOWED_HOSTS are exempt from the rule (development and tests).
import dns from 'node:dns';
import net from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { classifyAddress, describeAddressClass } from './addressRange';
import { classify, OutboundNetworkError, OutboundRuleError } from './outboundErrors';
import { flatHeaders, readCapped, type OutboundRequest, type OutboundResponse } from './outboundMessages';
import { MAX_REDIRECTS, redirected } from './outboundRedirects';
import { guardedLookup, isPublicAddress } from './publicAddress';

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
