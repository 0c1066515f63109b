// Owns classifying an IP address for the outbound public-address rule. An IPv6 address that embeds
// an IPv4 address (IPv4-compatible, IPv4-mapped, IPv4-translated, NAT64, 6to4, Teredo, ISATAP) reaches
// or names that IPv4 host, so it is classified by the IPv4 address(es) inside it, not as IPv6: a
// public-looking `[::7f00:1]` is `127.0.0.1`. Ranges are ipaddr.js's; only 'unicast' is public.
import ipaddr from 'ipaddr.js';

/** Where an IPv4 address sits inside an IPv6 one, and what the embedding is called. */
interface Embedded {
  form: string;
  ipv4: ipaddr.IPv4;
}

export interface AddressClass {
  /** ipaddr.js's range name ('unicast', 'loopback', 'private', …) or 'invalid'. */
  range: string;
  /** For an IPv6 address classified by an embedded IPv4 one: e.g. "embeds 127.0.0.1 (IPv4-compatible)". */
  via?: string;
}

function ipv4(bytes: number[]): ipaddr.IPv4 {
  return new ipaddr.IPv4(bytes);
}

function inPrefix(ip: ipaddr.IPv6, prefix: string, bits: number): boolean {
  return ip.match(ipaddr.IPv6.parse(prefix), bits);
}

/** RFC 6052 §2.2: the IPv4 octets skip bits 64-71 (the "u" octet); one layout per prefix length. */
const RFC6052_LAYOUTS: Record<number, number[]> = {
  48: [6, 7, 9, 10],
  56: [7, 9, 10, 11],
  64: [9, 10, 11, 12],
  96: [12, 13, 14, 15],
};

/** Every IPv4 address an IPv6 address embeds; empty when it embeds none. */
export function embeddedIPv4(ip: ipaddr.IPv6): Embedded[] {
  const b = ip.toByteArray();
  const last = b.slice(12, 16);
  if (inPrefix(ip, '::ffff:0:0', 96)) return [{ form: 'IPv4-mapped', ipv4: ipv4(last) }];
  if (inPrefix(ip, '::ffff:0:0:0', 96)) return [{ form: 'IPv4-translated', ipv4: ipv4(last) }];
  // ::/96 is IPv4-compatible (RFC 4291 §2.5.5.1), except :: and ::1, which are IPv6's own.
  if (inPrefix(ip, '::', 96) && !inPrefix(ip, '::', 127)) return [{ form: 'IPv4-compatible', ipv4: ipv4(last) }];
  if (inPrefix(ip, '64:ff9b::', 96)) return [{ form: 'NAT64', ipv4: ipv4(last) }];
  // The local-use NAT64 prefix (RFC 8215) may be cut at any length from /48: every layout must be public.
  if (inPrefix(ip, '64:ff9b:1::', 48))
    return Object.values(RFC6052_LAYOUTS).map((at) => ({ form: 'NAT64 local-use', ipv4: ipv4(at.map((i) => b[i])) }));
  if (inPrefix(ip, '2002::', 16)) return [{ form: '6to4', ipv4: ipv4(b.slice(2, 6)) }];
  if (inPrefix(ip, '2001::', 32)) {
    // RFC 4380 §4: the server's address in bits 32-63, the client's in the last 32 bits, inverted.
    return [
      { form: 'Teredo server', ipv4: ipv4(b.slice(4, 8)) },
      { form: 'Teredo client', ipv4: ipv4(last.map((x) => x ^ 0xff)) },
    ];
  }
  // ISATAP interface identifier (RFC 5214 §6.1): [02]00:5efe:<IPv4>, under any prefix.
  if ((b[8] & 0xfd) === 0 && b[9] === 0 && b[10] === 0x5e && b[11] === 0xfe)
    return [{ form: 'ISATAP', ipv4: ipv4(last) }];
  return [];
}

/** ipaddr.js's names for IPv6 ranges that are only an envelope around an IPv4 address. */
const EMBEDDING_RANGES = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052', '6to4', 'teredo']);

/** The range an address is treated as: for an IPv6 address embedding IPv4, the first embedded one that is not public. */
export function classifyAddress(address: string): AddressClass {
  if (!ipaddr.isValid(address)) return { range: 'invalid' };
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') return { range: ip.range() };
  const v6range = ip.range();
  // Outside the embedding ranges the IPv6 range decides first (an ISATAP identifier under fe80:: is link-local).
  if (v6range !== 'unicast' && !EMBEDDING_RANGES.has(v6range)) return { range: v6range };
  const embedded = embeddedIPv4(ip as ipaddr.IPv6);
  if (embedded.length === 0) return { range: v6range };
  const bad = embedded.find((e) => e.ipv4.range() !== 'unicast') ?? embedded[0];
  return { range: bad.ipv4.range(), via: `embeds ${bad.ipv4.toString()} (${bad.form})` };
}

/** "a loopback address" or "an address that embeds 127.0.0.1 (IPv4-compatible), a loopback address". */
export function describeAddressClass(c: AddressClass): string {
  return c.via ? `an address that ${c.via}, a ${c.range} address` : `a ${c.range} address`;
}
