/**
 * Server names (spec appendix "Server Name"): `hostname [":" port]`, the hostname being an IPv4
 * literal, a bracketed IPv6 literal or a DNS name.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface ServerName {
  /** The hostname as written, brackets removed from IPv6 literals. */
  host: string;
  port: number | undefined;
  /** 4 or 6 for IP literals, 0 for DNS names. */
  ipFamily: 0 | 4 | 6;
}

const DNS_NAME = /^[A-Za-z0-9.-]{1,255}$/;

/** Parses a server name; undefined when it does not follow the grammar. */
export function parseServerName(name: string): ServerName | undefined {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255) return undefined;
  let host: string;
  let rest: string;
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    if (end < 0) return undefined;
    host = name.slice(1, end);
    if (!isIPv6(host)) return undefined;
    rest = name.slice(end + 1);
  } else {
    const colon = name.lastIndexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    rest = colon < 0 ? '' : name.slice(colon);
  }
  let port: number | undefined;
  if (rest !== '') {
    if (!/^:\d{1,5}$/.test(rest)) return undefined;
    port = Number(rest.slice(1));
    if (port < 1 || port > 65535) return undefined;
  }
  if (isIPv6(host)) return name.startsWith('[') ? { host, port, ipFamily: 6 } : undefined;
  if (isIPv4(host)) return { host, port, ipFamily: 4 };
  if (!DNS_NAME.test(host)) return undefined;
  return { host, port, ipFamily: 0 };
}

export function isValidServerName(name: string): boolean {
  return parseServerName(name) !== undefined;
}
