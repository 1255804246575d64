/**
 * Where the pipeline gets the public keys that event signatures are checked against. The
 * signature check itself is synchronous, so keys are fetched first (remote servers' keys come
 * over federation later) and looked up from the result.
 */
import type { SigningKey, VerifyKey } from '../core/signing.js';

export interface KeyRing {
  /** The keys of `server` with the given IDs that are known or can be fetched; missing ones are left out. */
  getVerifyKeys(server: string, keyIds: readonly string[]): Promise<VerifyKey[]>;
}

/** Knows only this server's own keys; remote servers' keys arrive with federation. */
export class LocalKeyRing implements KeyRing {
  constructor(
    private readonly serverName: string,
    private readonly keys: readonly SigningKey[],
  ) {}

  async getVerifyKeys(server: string, keyIds: readonly string[]): Promise<VerifyKey[]> {
    if (server !== this.serverName) return [];
    return this.keys.filter((k) => keyIds.includes(k.keyId)).map((k) => ({ keyId: k.keyId, publicKey: k.publicKey }));
  }
}
