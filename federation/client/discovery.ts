/**
 * Server discovery (server-server API, "Resolving server names"): where to connect for a server
 * name, which certificate name to expect and which Host header to send. IP literals and explicit
 * ports are used as given; otherwise /.well-known/matrix/server delegation (cached), then SRV
 * `_matrix-fed._tcp` and `_matrix._tcp`, then port 8448. The `federation.resolve` map (development
 * and tests) short-circuits all of it for the names it lists.
 */
import { isIP } from 'node:net';
import { isJsonObject } from '../../src/core/json.js';
import { parseServerName } from '../../src/core/server-name.js';

export interface Destination {
  /** Address or DNS name to connect to. */
  host: string;
  port: number;
  /** The name the server's certificate must be valid for (a hostname or an IP address). */
  tlsName: string;
  hostHeader: string;
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface WellKnownResult {
  /** `m.server` when the response was valid. */
  server: string | undefined;
  /** How long the result may be cached. */
  cacheMs: number;
}

export interface DiscoveryDeps {
  /** `federation.resolve` entries keyed by server name (not by host:port). */
  overrides: ReadonlyMap<string, { host: string; port: number }>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  fetchWellKnown(hostname: string): Promise<WellKnownResult>;
  now(): number;
}

export const DEFAULT_PORT = 8448;
/** Spec recommendations: cache well-known answers 24 h by default, 48 h at most, errors 1 h. */
export const WELL_KNOWN_DEFAULT_MS = 24 * 3600_000;
export const WELL_KNOWN_MAX_MS = 48 * 3600_000;
export const WELL_KNOWN_ERROR_MS = 3600_000;

/** Splits `host:port` (IPv6 in brackets); undefined when malformed. */
export function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1].startsWith('[') ? m[1].slice(1, -1) : m[1], port };
}

/** The cache lifetime a well-known response's headers ask for, within the spec's bounds. */
export function wellKnownCacheMs(cacheControl: string | undefined, expires: string | undefined, now: number): number {
  let ms: number | undefined;
  const maxAge = cacheControl && /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(cacheControl);
  if (cacheControl && /(?:^|,)\s*(no-store|no-cache)\b/i.test(cacheControl)) ms = 0;
  else if (maxAge) ms = Number(maxAge[1]) * 1000;
  else if (expires) {
    const t = Date.parse(expires);
    if (!Number.isNaN(t)) ms = Math.max(0, t - now);
  }
  return Math.min(ms ?? WELL_KNOWN_DEFAULT_MS, WELL_KNOWN_MAX_MS);
}

/** Reads `m.server` out of a well-known body; undefined when invalid. */
export function parseWellKnown(body: unknown): string | undefined {
  if (!isJsonObject(body) || typeof body['m.server'] !== 'string') return undefined;
  const delegated = body['m.server'];
  return parseServerName(delegated) ? delegated : undefined;
}

function withPort(host: string, ipFamily: number, port: number | undefined): string {
  const h = ipFamily === 6 ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

export class ServerDiscovery {
  private readonly wellKnownCache = new Map<string, { server: string | undefined; expires: number }>();

  constructor(private readonly d: DiscoveryDeps) {}

  async resolve(serverName: string): Promise<Destination> {
    const parsed = parseServerName(serverName);
    if (!parsed) throw new Error(`invalid server name ${serverName}`);
    const override = this.d.overrides.get(serverName);
    if (override) return { host: override.host, port: override.port, tlsName: parsed.host, hostHeader: serverName };
    // Steps 1 and 2: IP literal, or explicit port.
    if (parsed.ipFamily !== 0 || parsed.port !== undefined) {
      return { host: parsed.host, port: parsed.port ?? DEFAULT_PORT, tlsName: parsed.host, hostHeader: serverName };
    }
    // Step 3: delegation.
    const delegated = await this.wellKnown(parsed.host);
    if (delegated !== undefined) {
      const d = parseServerName(delegated)!;
      if (d.ipFamily !== 0 || d.port !== undefined) {
        return { host: d.host, port: d.port ?? DEFAULT_PORT, tlsName: d.host, hostHeader: withPort(d.host, d.ipFamily, d.port) };
      }
      const srv = await this.srv(d.host);
      return { host: srv?.name ?? d.host, port: srv?.port ?? DEFAULT_PORT, tlsName: d.host, hostHeader: d.host };
    }
    // Steps 4–6.
    const srv = await this.srv(parsed.host);
    return { host: srv?.name ?? parsed.host, port: srv?.port ?? DEFAULT_PORT, tlsName: parsed.host, hostHeader: parsed.host };
  }

  private async wellKnown(hostname: string): Promise<string | undefined> {
    const now = this.d.now();
    const cached = this.wellKnownCache.get(hostname);
    if (cached && cached.expires > now) return cached.server;
    let result: WellKnownResult;
    try {
      result = await this.d.fetchWellKnown(hostname);
    } catch {
      result = { server: undefined, cacheMs: WELL_KNOWN_ERROR_MS };
    }
    const cacheMs = result.server === undefined ? Math.min(result.cacheMs, WELL_KNOWN_ERROR_MS) : result.cacheMs;
    this.wellKnownCache.set(hostname, { server: result.server, expires: now + cacheMs });
    return result.server;
  }

  /** `_matrix-fed._tcp`, then the deprecated `_matrix._tcp`; the best-priority, heaviest record. */
  private async srv(hostname: string): Promise<{ name: string; port: number } | undefined> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      let records: SrvRecord[];
      try {
        records = await this.d.resolveSrv(`${service}.${hostname}`);
      } catch {
        continue;
      }
      const usable = records.filter((r) => r.name !== '' && r.name !== '.');
      if (usable.length === 0) continue;
      usable.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      return { name: usable[0].name, port: usable[0].port };
    }
    return undefined;
  }
}

export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}
