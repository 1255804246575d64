/**
 * The KeyRing the event pipeline and request authentication use: our own keys (current and
 * retired), and other servers' keys from the persisted cache, fetched when missing or stale —
 * from the server itself, else from the configured notaries. A key that could not be found is
 * not asked for again for a while, so a flood of requests or events citing an unknown key costs
 * one fetch, not one per request.
 */
import { decodeBase64, encodeBase64 } from '../../src/core/base64.js';
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { capValidUntilTs, type SigningKey, type VerifyKey } from '../../src/core/signing.js';
import type { Logger } from '../../src/logger.js';
import type { KeyRing } from '../../src/room-engine/key-ring.js';
import type { ServerKeyStore, StoredServerKey } from '../../src/storage/federation-store.js';
import { buildKeyResponse, isSignedBy, type OldKey, parseKeyResponse } from './key-response.js';

/** How to reach other servers' key endpoints (the FederationClient implements it). */
export interface KeyTransport {
  /** `GET /_matrix/key/v2/server` on `server`. */
  fetchServerKeys(server: string): Promise<unknown>;
  /** `POST /_matrix/key/v2/query` on `notary`. */
  queryNotary(notary: string, body: JsonObject): Promise<unknown>;
}

export interface Notary {
  serverName: string;
  /** Pinned keys; empty: fetched from the notary directly. */
  verifyKeys: VerifyKey[];
}

export interface ServerKeyRingDeps {
  serverName: string;
  signingKey: SigningKey;
  oldKeys: readonly OldKey[];
  keyValidityMs: number;
  store: ServerKeyStore;
  transport: KeyTransport;
  notaries: readonly Notary[];
  now: () => number;
  logger: Logger;
}

/** After a lookup that did not produce a key, the same key is not looked up again for this long. */
export const KEY_RETRY_MS = 5 * 60_000;

const toVerifyKey = (k: StoredServerKey): VerifyKey => ({
  keyId: k.keyId,
  publicKey: decodeBase64(k.publicKey),
  validUntilTs: k.validUntilTs ?? undefined,
  expiredTs: k.expiredTs ?? undefined,
});

export class ServerKeyRing implements KeyRing {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Per server: how many fetches have finished (a read that overlapped one is repeated). */
  private readonly fetchesDone = new Map<string, number>();
  /** `server\0keyId` → when a finished lookup last failed to produce that key. */
  private readonly lastMiss = new Map<string, number>();

  constructor(private readonly d: ServerKeyRingDeps) {}

  /** Our `/_matrix/key/v2/server` response, valid for `key_validity_ms` from now. */
  ownKeyResponse(): JsonObject {
    const now = this.d.now();
    return buildKeyResponse(this.d.serverName, this.d.signingKey, this.d.oldKeys, now + this.d.keyValidityMs);
  }

  private ownKeys(): VerifyKey[] {
    return [
      { keyId: this.d.signingKey.keyId, publicKey: this.d.signingKey.publicKey },
      ...this.d.oldKeys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, expiredTs: k.expiredTs })),
    ];
  }

  async getVerifyKeys(server: string, keyIds: readonly string[]): Promise<VerifyKey[]> {
    if (server === this.d.serverName) return this.ownKeys().filter((k) => keyIds.includes(k.keyId));
    // Two rounds at most: the first may only join a fetch someone else started for other key IDs.
    for (let round = 0; ; round++) {
      const known = await this.settledKeys(server, keyIds);
      const now = this.d.now();
      // Missing keys, and current keys whose validity ran out (the server may have extended it),
      // unless a finished lookup recently failed to produce them.
      const due = keyIds.filter((id) => {
        const k = known.find((x) => x.keyId === id);
        const stale = !k || (k.expiredTs === null && k.validUntilTs !== null && k.validUntilTs < now);
        return stale && (this.lastMiss.get(`${server}\u0000${id}`) ?? -Infinity) + KEY_RETRY_MS <= now;
      });
      if (due.length === 0 || round === 2) return known.map(toVerifyKey);
      await this.fetchKeys(server, due);
    }
  }

  /**
   * The stored keys, read when no fetch for `server` is under way and none finished during the
   * read: a caller never decides from a read that a concurrent fetch has since made out of date.
   */
  private async settledKeys(server: string, keyIds: readonly string[]): Promise<StoredServerKey[]> {
    for (;;) {
      const running = this.inFlight.get(server);
      if (running) await running.catch(() => undefined);
      const finished = this.fetchesDone.get(server) ?? 0;
      const known = await this.d.store.getKeys(server, keyIds);
      if (!this.inFlight.has(server) && (this.fetchesDone.get(server) ?? 0) === finished) return known;
    }
  }

  /** Fetches (once at a time per server) and stores the server's keys. */
  private fetchKeys(server: string, keyIds: readonly string[]): Promise<void> {
    const running = this.inFlight.get(server);
    if (running) return running;
    const p = this.doFetch(server, keyIds).finally(() => {
      this.inFlight.delete(server);
      this.fetchesDone.set(server, (this.fetchesDone.get(server) ?? 0) + 1);
    });
    this.inFlight.set(server, p);
    return p;
  }

  private async doFetch(server: string, keyIds: readonly string[]): Promise<void> {
    const now = this.d.now();
    const missing = new Set(keyIds);
    try {
      try {
        const raw = await this.d.transport.fetchServerKeys(server);
        for (const id of await this.accept(server, raw, now)) missing.delete(id);
      } catch (err) {
        this.d.logger.info({ server, err: (err as Error).message }, 'fetching server keys directly failed');
      }
      for (const notary of this.d.notaries) {
        if (notary.serverName === server || missing.size === 0) continue;
        try {
          for (const id of await this.fromNotary(notary, server, [...missing], now)) missing.delete(id);
        } catch (err) {
          this.d.logger.info({ server, notary: notary.serverName, err: (err as Error).message }, 'notary key query failed');
        }
      }
      if (missing.size > 0) this.d.logger.warn({ server, keyIds: [...missing] }, 'server keys not found');
    } finally {
      // Only a lookup that has finished without the key counts as a miss: one still under way
      // says nothing yet (a request arriving meanwhile waits for it instead).
      const done = this.d.now();
      for (const id of missing) this.lastMiss.set(`${server}\u0000${id}`, done);
    }
  }

  /** Verifies and stores a key response for `server`; returns the key IDs it provided. */
  private async accept(server: string, raw: unknown, fetchedTs: number, extraCheck?: (r: JsonObject) => boolean): Promise<string[]> {
    const parsed = parseKeyResponse(raw, server);
    if (!parsed.ok) {
      this.d.logger.warn({ server, reason: parsed.reason }, 'rejected a key response');
      return [];
    }
    if (extraCheck && !extraCheck(raw as JsonObject)) return [];
    const { validUntilTs, keys } = parsed.value;
    const capped = capValidUntilTs(validUntilTs, fetchedTs);
    await this.d.store.storeKeyResponse(
      server,
      { response: raw as JsonObject, validUntilTs, fetchedTs },
      keys.map((k) => ({
        serverName: server,
        keyId: k.keyId,
        publicKey: encodeBase64(k.publicKey),
        validUntilTs: k.expiredTs === undefined ? capped : null,
        expiredTs: k.expiredTs ?? null,
        fetchedTs,
      })),
    );
    return keys.map((k) => k.keyId);
  }

  private async fromNotary(notary: Notary, server: string, keyIds: string[], now: number): Promise<string[]> {
    const notaryKeys = notary.verifyKeys.length > 0 ? notary.verifyKeys : await this.directKeysOf(notary.serverName);
    if (notaryKeys.length === 0) throw new Error(`no keys known for notary ${notary.serverName}`);
    const criteria: JsonObject = {};
    for (const id of keyIds) criteria[id] = { minimum_valid_until_ts: now };
    const res = await this.d.transport.queryNotary(notary.serverName, { server_keys: { [server]: criteria } });
    const list = isJsonObject(res) && Array.isArray(res.server_keys) ? res.server_keys : [];
    const got: string[] = [];
    for (const entry of list) {
      if (!isJsonObject(entry) || entry.server_name !== server) continue;
      const ids = await this.accept(server, entry, now, (r) => isSignedBy(r, notary.serverName, notaryKeys));
      got.push(...ids);
    }
    return got;
  }

  /** A notary's own keys: cached, else fetched from it directly (never through other notaries). */
  private async directKeysOf(server: string): Promise<VerifyKey[]> {
    const known = (await this.d.store.getKeys(server)).filter((k) => k.expiredTs === null);
    if (known.length > 0) return known.map(toVerifyKey);
    await this.accept(server, await this.d.transport.fetchServerKeys(server), this.d.now());
    return (await this.d.store.getKeys(server)).filter((k) => k.expiredTs === null).map(toVerifyKey);
  }

  /**
   * For the notary endpoints: the stored responses of `server`, refetched from it first when none
   * is valid until `minimumValidUntilTs`.
   */
  async responsesFor(server: string, minimumValidUntilTs: number): Promise<JsonObject[]> {
    if (server === this.d.serverName) return [this.ownKeyResponse()];
    let stored = await this.d.store.getKeyResponses(server);
    if (!stored.some((r) => r.validUntilTs >= minimumValidUntilTs)) {
      try {
        const raw = await this.d.transport.fetchServerKeys(server);
        if ((await this.accept(server, raw, this.d.now())).length > 0) stored = await this.d.store.getKeyResponses(server);
      } catch (err) {
        // The spec asks notaries to keep serving the last response when the server is unreachable.
        this.d.logger.info({ server, err: (err as Error).message }, 'notary: server unreachable, serving cached keys');
      }
    }
    return stored.map((r) => r.response);
  }
}
