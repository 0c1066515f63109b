// Owns CORS_ORIGINS and TRUST_PROXY: which browser origins may call, and which proxies may name the client.
import ipaddr from 'ipaddr.js';
import type { Config } from '../config';
import { ConfigError, integer } from './values';

/**
 * CORS_ORIGINS: a comma list of origins as browsers send them (`https://app.example.com`, a port
 * when not the default). Anything else would never match a browser's Origin header, so it is refused
 * at start rather than silently never matching; `*` and `null` are refused too.
 */
export function corsOrigins(raw: string | undefined): string[] {
  const items = (raw ?? '')
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean);
  for (const item of items) {
    let origin: string | undefined;
    try {
      const url = new URL(item);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      // reported below
    }
    if (origin !== item) {
      throw new ConfigError(
        `CORS_ORIGINS must be a comma list of origins like https://app.example.com (scheme, host and port only), got "${item}"`,
      );
    }
  }
  return items;
}

/** Names Express (proxy-addr) knows for groups of addresses. */
const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/** An address written out in full (no `10.1` shorthand, which Express refuses at start) or a subnet of one. */
function isAddressOrSubnet(item: string): boolean {
  if (PROXY_KEYWORDS.includes(item)) return true;
  const [address, bits, ...rest] = item.split('/');
  if (rest.length > 0 || !(ipaddr.IPv4.isValidFourPartDecimal(address) || ipaddr.IPv6.isValid(address))) return false;
  if (bits === undefined) return true;
  try {
    ipaddr.parseCIDR(item);
    return true;
  } catch {
    return false;
  }
}

/**
 * TRUST_PROXY: a number of proxy hops (1–10), or a comma list of proxy addresses, subnets and the
 * keywords loopback, linklocal, uniquelocal. Trusting every address is refused: any client could then
 * name its own address and step around the failed-authentication limit.
 */
export function trustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return integer({ TRUST_PROXY: raw.trim() }, 'TRUST_PROXY', 0, 1, 10);
  const items = raw
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean);
  const bad = items.find((i) => !isAddressOrSubnet(i));
  if (bad !== undefined || items.length === 0) {
    throw new ConfigError(
      `TRUST_PROXY must be a number of hops (1–10) or a comma list of proxy addresses, subnets, loopback, linklocal or uniquelocal, got "${bad ?? raw}"`,
    );
  }
  return items;
}
