// Owns OAuth 2.0 client credentials (RFC 6749 §4.4): the token request (form-encoded, client
// credentials in the body or as HTTP Basic; never redirected), and the token cache keyed by
// (token_url, client_id, secret, scope), valid until shortly before expiry, shared by every step and
// execution, with concurrent requests for the same key sharing one token request.
import { createHash } from 'node:crypto';
import sjson from 'secure-json-parse';
import { ConnectorFailure, REQUEST_SITE } from './failure';
import type { Outbound } from './outbound';
import { OutboundNetworkError, OutboundRuleError } from './outboundErrors';

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  audience?: string;
  clientAuth: 'client_secret_post' | 'client_secret_basic';
}

export interface Token {
  accessToken: string;
  /** Epoch ms after which the token is not used again. */
  renewAt: number;
  /** The token endpoint's answer, for a step whose URL is the token URL itself. */
  response: { status: number; headers: Record<string, string>; body: Buffer };
}

/** Tokens without expires_in are reused this long. */
const DEFAULT_LIFETIME_S = 300;
const MAX_ENTRIES = 1000;

/** Renew a little before expiry: 10% of the lifetime, at most 30 s, so a token never expires in flight. */
export function renewAt(obtainedAt: number, lifetimeSeconds: number): number {
  const lifetimeMs = lifetimeSeconds * 1000;
  return obtainedAt + lifetimeMs - Math.min(30000, lifetimeMs / 10);
}

function cacheKey(c: ClientCredentials): string {
  return createHash('sha256')
    .update(JSON.stringify([c.tokenUrl, c.clientId, c.clientSecret, c.scope ?? '', c.audience ?? '', c.clientAuth]))
    .digest('hex');
}

export class TokenCache {
  private readonly tokens = new Map<string, Token>();
  private readonly pending = new Map<string, Promise<Token>>();

  constructor(
    private readonly outbound: Outbound,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid token, from the cache or fetched; `stale` is a token just refused with 401, never handed out again. */
  async get(creds: ClientCredentials, stale?: Token): Promise<{ token: Token; fetched: boolean }> {
    const key = cacheKey(creds);
    const cached = this.tokens.get(key);
    if (cached && cached !== stale && cached.renewAt > this.now()) return { token: cached, fetched: false };
    if (cached) this.tokens.delete(key);
    let inFlight = this.pending.get(key);
    if (!inFlight) {
      inFlight = this.fetchToken(creds).finally(() => this.pending.delete(key));
      this.pending.set(key, inFlight);
    }
    const token = await inFlight;
    if (this.tokens.size >= MAX_ENTRIES) this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(key, token);
    return { token, fetched: true };
  }

  private async fetchToken(c: ClientCredentials): Promise<Token> {
    let url: URL;
    try {
      url = new URL(c.tokenUrl);
    } catch {
      throw new ConnectorFailure('template', 'INVALID_TOKEN_URL', 'token_url is not an absolute URL', REQUEST_SITE);
    }
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (c.scope) form.set('scope', c.scope);
    if (c.audience) form.set('audience', c.audience);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (c.clientAuth === 'client_secret_basic') {
      // RFC 6749 §2.3.1: each part form-encoded before Basic encoding.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${enc(c.clientId)}:${enc(c.clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', c.clientId);
      form.set('client_secret', c.clientSecret);
    }
    const obtainedAt = this.now();
    let res;
    try {
      // Never redirected: the body and the Basic header hold the client secret, meant for token_url alone.
      res = await this.outbound.send({ method: 'POST', url, headers, body: form.toString(), redirects: 'none' });
    } catch (err) {
      if (err instanceof OutboundRuleError)
        throw new ConnectorFailure('outbound', 'OUTBOUND_RULE', `token request refused: ${err.message}`, REQUEST_SITE, {
          rule: err.rule,
        });
      const code = err instanceof OutboundNetworkError ? err.code : 'ERROR';
      throw new ConnectorFailure(
        'network',
        'TOKEN_REQUEST_FAILED',
        `the token request failed: ${(err as Error).message}`,
        REQUEST_SITE,
        { networkCode: code },
      );
    }
    if (res.status >= 300 && res.status < 400) {
      throw new ConnectorFailure(
        'http',
        'TOKEN_REQUEST_REDIRECTED',
        `the token endpoint answered HTTP ${res.status} (a redirect); token requests never follow redirects, so the client credentials go to token_url only`,
        REQUEST_SITE,
        { upstreamStatus: res.status },
      );
    }
    if (res.status >= 400) {
      throw new ConnectorFailure(
        'http',
        'TOKEN_REQUEST_REFUSED',
        `the token endpoint answered HTTP ${res.status}`,
        REQUEST_SITE,
        { upstreamStatus: res.status },
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown } | undefined;
    try {
      parsed = sjson.parse(res.body.toString('utf8'), undefined, {
        protoAction: 'remove',
        constructorAction: 'remove',
      }) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new ConnectorFailure(
        'network',
        'TOKEN_RESPONSE_INVALID',
        'the token endpoint did not answer with an access_token',
        REQUEST_SITE,
      );
    }
    const lifetime = Number(parsed.expires_in);
    return {
      accessToken: parsed.access_token,
      renewAt: renewAt(obtainedAt, Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_LIFETIME_S),
      response: { status: res.status, headers: res.headers, body: res.body },
    };
  }
}
