/**
 * HTTP(S) GET for URL previews that cannot be aimed at internal services: every hop (the first URL
 * and each redirect) is resolved, every resolved address is checked against the IpPolicy, and the
 * connection goes to the checked address itself (no second DNS lookup a rebinding attack could
 * answer differently). Bounded in bytes, redirects and total time.
 */
import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { IpPolicy } from './ip-policy.js';

export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedResource {
  url: string;
  contentType: string;
  body: Buffer;
}

/** The request is not allowed (scheme, blocked address). */
export class FetchRefused extends Error {}
/** The remote end failed us (network, status, size, time). */
export class FetchFailed extends Error {}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export async function safeFetch(
  url: string,
  policy: IpPolicy,
  limits: FetchLimits,
  resolve: Resolver = systemResolver,
): Promise<FetchedResource> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const { url: finalUrl, res } = await safeOpen(url, policy, { maxRedirects: limits.maxRedirects, signal }, resolve);
  const body = await readLimited(res, limits.maxBytes);
  return { url: finalUrl, contentType: String(res.headers['content-type'] ?? ''), body };
}

/**
 * Follows redirects to a 200 response under the same address checks and returns it unread (the
 * caller streams the body and bounds it). `signal` ends the request at any point.
 */
export async function safeOpen(
  url: string,
  policy: IpPolicy,
  opts: { maxRedirects: number; signal: AbortSignal },
  resolve: Resolver = systemResolver,
): Promise<{ url: string; res: IncomingMessage }> {
  let current = parseUrl(url);
  for (let hop = 0; ; hop++) {
    const address = await checkedAddress(current, policy, resolve);
    const res = await get(current, address, opts.signal);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= opts.maxRedirects) throw new FetchFailed('Too many redirects');
      current = parseUrl(res.headers.location, current);
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new FetchFailed(`Remote server answered ${status}`);
    }
    return { url: current.href, res };
  }
}

function parseUrl(s: string, base?: URL): URL {
  let u: URL;
  try {
    u = new URL(s, base);
  } catch {
    throw new FetchRefused('Not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FetchRefused('Only http and https URLs can be previewed');
  if (u.username || u.password) throw new FetchRefused('URLs with credentials cannot be previewed');
  return u;
}

/** Resolves the host; refuses if ANY address is blocked (an attacker controls which one we would get). */
async function checkedAddress(u: URL, policy: IpPolicy, resolve: Resolver): Promise<string> {
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new FetchFailed(`Cannot resolve ${host}`);
    }
  }
  if (addresses.length === 0) throw new FetchFailed(`Cannot resolve ${host}`);
  for (const a of addresses) {
    if (!policy.isAllowed(a)) throw new FetchRefused('The URL points at an address that may not be previewed');
  }
  return addresses[0];
}

function get(u: URL, address: string, signal: AbortSignal): Promise<IncomingMessage> {
  const https = u.protocol === 'https:';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        host: address,
        port: u.port || (https ? 443 : 80),
        path: `${u.pathname}${u.search}`,
        method: 'GET',
        headers: {
          host: u.host,
          'user-agent': 'Comet (Matrix homeserver) URL preview',
          accept: 'text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.1',
        },
        // TLS verifies the certificate against the name, though we connect to the pinned address.
        ...(https && !isIP(host) ? { servername: host } : {}),
        agent: false,
        signal,
      },
      resolve,
    );
    req.on('error', (err) => reject(signal.aborted ? new FetchFailed('Timed out') : new FetchFailed(err.message)));
    req.end();
  });
}

async function readLimited(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) {
    res.destroy();
    throw new FetchFailed('Content is too large to preview');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        throw new FetchFailed('Content is too large to preview');
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof FetchFailed) throw err;
    throw new FetchFailed((err as Error).message);
  }
  return Buffer.concat(chunks, size);
}
