/**
 * Profiles of users on other servers, for the client API's `GET /profile/{userId}`: asked of the
 * user's server with `GET /query/profile` and kept for a short while, so a client that renders a
 * member list does not send one federation request per avatar.
 */
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { Logger } from '../../src/logger.js';
import { FederationError, type FederationRequestOptions } from '../client/federation-client.js';

export interface ProfileTransport {
  request<T = JsonObject>(destination: string, method: string, path: string, opts?: FederationRequestOptions): Promise<T>;
}

/** What a lookup gives: the profile (or the one field asked for), or why there is none. */
export type RemoteProfileResult =
  | { ok: true; profile: JsonObject }
  | { ok: false; reason: 'not_found' | 'forbidden' | 'unreachable' | 'timeout'; detail: string };

export interface RemoteProfilesOptions {
  transport: ProfileTransport;
  now: () => number;
  logger: Logger;
  /** How long an answer (a profile or a "not found") is reused. */
  ttlMs?: number;
  /** Most answers kept; the oldest goes first. */
  maxEntries?: number;
}

const DEFAULT_TTL_MS = 60_000;
const DEFAULT_MAX_ENTRIES = 1000;
// A client waits for this; a remote that is slow to answer a profile is treated as unreachable.
const REQUEST_TIMEOUT_MS = 10_000;

interface Entry {
  at: number;
  result: RemoteProfileResult;
}

export class RemoteProfiles {
  // Map keeps insertion order, which makes it the eviction order too.
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<RemoteProfileResult>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(private readonly o: RemoteProfilesOptions) {
    this.ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
    this.maxEntries = o.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** The profile of `userId` (a user of another server), or only `field` of it when given. */
  async lookup(userId: string, field?: string): Promise<RemoteProfileResult> {
    const key = field === undefined ? userId : `${userId}\u0000${field}`;
    const cached = this.cache.get(key);
    if (cached && this.o.now() - cached.at < this.ttlMs) return cached.result;
    if (cached) this.cache.delete(key);
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = this.fetch(userId, field).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    const result = await p;
    // Failures to reach the server are not kept: the next client request tries again.
    if (result.ok || result.reason === 'not_found' || result.reason === 'forbidden') this.remember(key, result);
    return result;
  }

  private remember(key: string, result: RemoteProfileResult): void {
    this.cache.set(key, { at: this.o.now(), result });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  private async fetch(userId: string, field: string | undefined): Promise<RemoteProfileResult> {
    const server = domainOf(userId);
    try {
      const body = await this.o.transport.request<unknown>(server, 'GET', '/_matrix/federation/v1/query/profile', {
        query: { user_id: userId, field },
        timeoutMs: REQUEST_TIMEOUT_MS,
        maxBytes: 256 * 1024,
      });
      if (!isJsonObject(body)) return { ok: false, reason: 'unreachable', detail: `${server} answered with something other than a profile` };
      if (field === undefined) return { ok: true, profile: body };
      // The spec has the remote answer only the field asked for; anything else it adds is dropped.
      return { ok: true, profile: body[field] === undefined ? {} : { [field]: body[field] } };
    } catch (err) {
      if (err instanceof FederationError && err.kind === 'http' && err.status === 404) return { ok: false, reason: 'not_found', detail: err.error };
      if (err instanceof FederationError && err.kind === 'http' && err.status === 403) return { ok: false, reason: 'forbidden', detail: err.error };
      const detail = err instanceof Error ? err.message : String(err);
      this.o.logger.info({ server, userId, err: detail }, 'remote profile lookup failed');
      const timedOut = err instanceof FederationError && err.kind === 'timeout';
      return { ok: false, reason: timedOut ? 'timeout' : 'unreachable', detail };
    }
  }
}
