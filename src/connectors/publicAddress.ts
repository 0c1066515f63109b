// Owns the public-address-only rule: which addresses are public, checked again on what DNS returns at connect time.
import dns, { type LookupAddress } from 'node:dns';
import { classifyAddress, describeAddressClass } from './addressRange';
import { OutboundRuleError } from './outboundErrors';

/** Only 'unicast' addresses are public; an IPv6 address embedding IPv4 is judged by its IPv4 address. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address).range === 'unicast';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** net.connect's `lookup`: resolves, then refuses unless every address is public. */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
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
