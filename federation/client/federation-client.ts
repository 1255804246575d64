/**
 * Outbound federation requests: discovery, TLS verified against the system CAs plus
 * `federation.trusted_ca_file` (off only with the loudly logged `insecure_skip_tls_verify`),
 * X-Matrix signing, JSON in and out, timeouts, size limits, and failures as a typed
 * FederationError.
 */
import { resolveSrv as dnsResolveSrv } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { checkServerIdentity, type PeerCertificate, rootCertificates } from 'node:tls';
import type { Config } from '../../src/config/config.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import type { SigningKey } from '../../src/core/signing.js';
import type { Logger } from '../../src/logger.js';
import { signRequest } from '../auth/x-matrix.js';
import type { KeyTransport } from '../keys/server-key-ring.js';
import { type Destination, isIpLiteral, parseWellKnown, ServerDiscovery, splitHostPort, wellKnownCacheMs } from './discovery.js';

export type FederationErrorKind = 'http' | 'network' | 'timeout' | 'bad_response';

/** A failed federation request: the remote's HTTP error (`kind` 'http') or a transport failure (status 0). */
export class FederationError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    readonly error: string,
    readonly kind: FederationErrorKind,
    readonly body?: JsonObject,
  ) {
    super(`${errcode}: ${error}`);
    this.name = 'FederationError';
  }
}

export type QueryValue = string | number | boolean | readonly string[];

export interface FederationRequestOptions {
  query?: Record<string, QueryValue | undefined>;
  /** JSON body (signed as the request's `content`). */
  body?: JsonValue;
  timeoutMs?: number;
  /** Default true. Key endpoints are fetched unsigned. */
  signed?: boolean;
  /** Largest response accepted (default 64 MiB: send_join answers for big rooms are large). */
  maxBytes?: number;
}

export interface FederationClientDeps {
  serverName: string;
  signingKey: SigningKey;
  config: Config['federation'];
  logger: Logger;
  now: () => number;
  /** Tests inject a resolver so no DNS query leaves the machine. */
  resolveSrv?: (name: string) => Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const WELL_KNOWN_MAX_BYTES = 64 * 1024;
const WELL_KNOWN_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 5;

/** A response whose body is read by the caller as it arrives (media). */
export interface StreamedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function buildQueryString(query: FederationRequestOptions['query']): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) qs.append(k, x);
    else qs.append(k, String(v));
  }
  const s = qs.toString();
  return s === '' ? '' : `?${s}`;
}

export class FederationClient implements KeyTransport {
  readonly discovery: ServerDiscovery;
  private readonly agent: Agent;
  private readonly connectOverrides = new Map<string, { host: string; port: number }>();

  constructor(private readonly d: FederationClientDeps) {
    const overrides = new Map<string, { host: string; port: number }>();
    for (const [key, target] of Object.entries(d.config.resolve)) {
      const t = splitHostPort(target);
      if (!t) continue;
      // "host:port" keys redirect connections (for a server name with a port that is the same as
      // bypassing discovery); plain server names bypass discovery.
      const hp = splitHostPort(key);
      if (hp) this.connectOverrides.set(`${hp.host.toLowerCase()}:${hp.port}`, t);
      else overrides.set(key, t);
    }
    let ca: string[] | undefined;
    if (d.config.trusted_ca_file !== null) ca = [...rootCertificates, readFileSync(d.config.trusted_ca_file, 'utf8')];
    this.agent = new Agent({ keepAlive: true, maxSockets: 32, ca, rejectUnauthorized: !d.config.insecure_skip_tls_verify });
    this.discovery = new ServerDiscovery({
      overrides,
      resolveSrv: d.resolveSrv ?? dnsResolveSrv,
      fetchWellKnown: (host) => this.fetchWellKnown(host),
      now: d.now,
    });
  }

  /** Closes pooled connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  async request<T = JsonObject>(destination: string, method: string, path: string, opts: FederationRequestOptions = {}): Promise<T> {
    const uri = path + buildQueryString(opts.query);
    const target = await this.resolve(destination);
    const headers: Record<string, string> = { Host: target.hostHeader, Accept: 'application/json' };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] = 'application/json';
    }
    if (opts.signed !== false) {
      headers.Authorization = signRequest(
        { method, uri, origin: this.d.serverName, destination, content: opts.body },
        this.d.signingKey,
      );
    }
    const res = await this.send(target, method, uri, headers, payload, opts.timeoutMs ?? this.d.config.request_timeout_ms, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    let parsed: unknown;
    try {
      parsed = res.body.length === 0 ? {} : JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new FederationError(res.status >= 400 ? res.status : 0, 'M_UNKNOWN', `${destination} answered ${res.status} with non-JSON`, res.status >= 400 ? 'http' : 'bad_response');
    }
    if (res.status < 200 || res.status >= 300) {
      const body = isJsonObject(parsed) ? parsed : undefined;
      const errcode = typeof body?.errcode === 'string' ? body.errcode : 'M_UNKNOWN';
      const error = typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
      throw new FederationError(res.status, errcode, error, 'http', body);
    }
    return parsed as T;
  }

  /**
   * A signed GET whose response body is streamed, not buffered: resolves once the status and headers
   * are in. `signal` ends the request at any point (deadline, enough bytes read); `idleTimeoutMs`
   * bounds each wait on the connection. The caller must consume or destroy `body`.
   */
  async stream(
    destination: string,
    path: string,
    opts: { query?: FederationRequestOptions['query']; signal: AbortSignal; idleTimeoutMs?: number },
  ): Promise<StreamedResponse> {
    const uri = path + buildQueryString(opts.query);
    const target = await this.resolve(destination);
    const headers: Record<string, string> = {
      Host: target.hostHeader,
      Accept: '*/*',
      Authorization: signRequest({ method: 'GET', uri, origin: this.d.serverName, destination }, this.d.signingKey),
    };
    const idle = opts.idleTimeoutMs ?? this.d.config.request_timeout_ms;
    return new Promise<StreamedResponse>((resolve, reject) => {
      const req = this.open(target, 'GET', uri, headers, idle, opts.signal);
      req.on('timeout', () => req.destroy(new FederationError(0, 'M_UNKNOWN', `connection idle for ${idle} ms`, 'timeout')));
      req.on('error', (err) => {
        reject(err instanceof FederationError ? err : new FederationError(0, 'M_UNKNOWN', err.message, 'network'));
      });
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
      req.end();
    });
  }

  // ---- KeyTransport ----

  fetchServerKeys(server: string): Promise<unknown> {
    return this.request(server, 'GET', '/_matrix/key/v2/server', { signed: false });
  }

  queryNotary(notary: string, body: JsonObject): Promise<unknown> {
    return this.request(notary, 'POST', '/_matrix/key/v2/query', { body, signed: false });
  }

  // ---- transport ----

  private async resolve(destination: string): Promise<Destination> {
    try {
      return await this.discovery.resolve(destination);
    } catch (err) {
      throw new FederationError(0, 'M_UNKNOWN', `cannot resolve ${destination}: ${(err as Error).message}`, 'network');
    }
  }

  private open(
    target: Destination,
    method: string,
    uri: string,
    headers: Record<string, string>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): ClientRequest {
    const connect = this.connectOverrides.get(`${target.host.toLowerCase()}:${target.port}`) ?? { host: target.host, port: target.port };
    const tlsName = target.tlsName;
    return httpsRequest({
      agent: this.agent,
      host: connect.host,
      port: connect.port,
      method,
      path: uri,
      headers,
      // SNI takes host names only; the certificate is checked against the name discovery chose.
      servername: isIpLiteral(tlsName) ? undefined : tlsName,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(tlsName, cert),
      timeout: timeoutMs,
      signal,
    });
  }

  private send(
    target: Destination,
    method: string,
    uri: string,
    headers: Record<string, string>,
    payload: Buffer | undefined,
    timeoutMs: number,
    maxBytes: number,
  ): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const req = this.open(target, method, uri, payload ? { ...headers, 'Content-Length': String(payload.length) } : headers, timeoutMs);
      const deadline = setTimeout(() => req.destroy(new FederationError(0, 'M_UNKNOWN', `request timed out after ${timeoutMs} ms`, 'timeout')), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(deadline);
        reject(err instanceof FederationError ? err : new FederationError(0, 'M_UNKNOWN', err.message, 'network'));
      };
      req.on('timeout', () => req.destroy(new FederationError(0, 'M_UNKNOWN', `connection idle for ${timeoutMs} ms`, 'timeout')));
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new FederationError(0, 'M_TOO_LARGE', `response larger than ${maxBytes} bytes`, 'bad_response'));
          else chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(payload);
    });
  }

  /** `https://<hostname>/.well-known/matrix/server`, following redirects (no loops). */
  private async fetchWellKnown(hostname: string): Promise<{ server: string | undefined; cacheMs: number }> {
    let url = new URL(`https://${hostname}/.well-known/matrix/server`);
    const seen = new Set<string>();
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (seen.has(url.href)) break;
      seen.add(url.href);
      const port = url.port === '' ? 443 : Number(url.port);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const res = await this.send(
        { host, port, tlsName: host, hostHeader: url.host },
        'GET',
        url.pathname + url.search,
        { Host: url.host, Accept: 'application/json' },
        undefined,
        WELL_KNOWN_TIMEOUT_MS,
        WELL_KNOWN_MAX_BYTES,
      );
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
        url = new URL(location, url);
        if (url.protocol !== 'https:') break;
        continue;
      }
      const cacheMs = wellKnownCacheMs(str(res.headers['cache-control']), str(res.headers.expires), this.d.now());
      if (res.status !== 200) return { server: undefined, cacheMs };
      let body: unknown;
      try {
        body = JSON.parse(res.body.toString('utf8'));
      } catch {
        return { server: undefined, cacheMs };
      }
      return { server: parseWellKnown(body), cacheMs };
    }
    return { server: undefined, cacheMs: 0 };
  }
}

function str(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
