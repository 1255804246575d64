/**
 * Which addresses URL previews may connect to. Everything that is not plainly public unicast is
 * refused: loopback, private, link-local, CGNAT, multicast, documentation, benchmarking, reserved,
 * and the IPv6 equivalents (plus IPv4-mapped/NAT64/6to4 forms, which could smuggle a private IPv4
 * address). The check runs on resolved addresses, so a hostname cannot point us at them.
 */
import { BlockList, isIP } from 'node:net';

const DENIED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const DENIED_V6 = [
  '::/128',
  '::1/128',
  // IPv4-mapped addresses (::ffff:0:0/96) are judged as IPv4 in isAllowed; node's BlockList would
  // match every IPv4 address against that range.
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

function addRanges(list: BlockList, ranges: readonly string[]): void {
  for (const r of ranges) {
    const [addr, bits] = r.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(addr, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
  }
}

export class IpPolicy {
  private readonly denied = new BlockList();
  private readonly allowed = new BlockList();

  /** `extraDenied` / `allowed`: CIDR ranges from the config (allow wins over deny). */
  constructor(extraDenied: readonly string[], allowed: readonly string[]) {
    addRanges(this.denied, [...DENIED_V4, ...DENIED_V6, ...extraDenied]);
    addRanges(this.allowed, allowed);
  }

  isAllowed(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    // An IPv4-mapped address (::ffff:127.0.0.1) is what it carries: the IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.isAllowed(mapped[1]);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(address, type)) return true;
    return !this.denied.check(address, type);
  }
}
