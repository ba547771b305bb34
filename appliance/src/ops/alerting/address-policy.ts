import { BlockList, isIP } from 'node:net';

/** Decides whether an outbound connection may go to a resolved address. */
export interface AddressPolicy {
  /** A French-free English reason when refused, undefined when allowed. */
  refuse(address: string): string | undefined;
}

const V4_BLOCKED: [string, number, string][] = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6_BLOCKED: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

/** The IPv4 address embedded in an IPv4-mapped (::ffff:a.b.c.d) or NAT64 address, if any. */
function embeddedV4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/**
 * Production policy: only public unicast addresses. Private, loopback, link-local
 * (169.254.169.254 is the cloud metadata service), CGNAT, documentation, multicast
 * and reserved ranges are refused, including when wrapped in IPv6 forms.
 */
export class PublicAddressPolicy implements AddressPolicy {
  private readonly rules: { list: BlockList; why: string }[] = [];

  constructor() {
    for (const [net, prefix, why] of V4_BLOCKED) this.add(net, prefix, 'ipv4', why);
    for (const [net, prefix, why] of V6_BLOCKED) this.add(net, prefix, 'ipv6', why);
  }

  private add(net: string, prefix: number, type: 'ipv4' | 'ipv6', why: string): void {
    const list = new BlockList();
    list.addSubnet(net, prefix, type);
    this.rules.push({ list, why });
  }

  refuse(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return 'not an IP address';
    const v4 = family === 6 ? embeddedV4(address) : address;
    if (family === 6 && v4) return this.refuse(v4);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    for (const r of this.rules) if (r.list.check(address, type)) return `${r.why} address ${address}`;
    return undefined;
  }
}
