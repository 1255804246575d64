/**
 * Server key responses (`/_matrix/key/v2/server`, also what notaries relay): building ours and
 * checking others'. Pure.
 */
import { decodeBase64, encodeBase64 } from '../../src/core/base64.js';
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { isValidKeyId, type SigningKey, signJson, type VerifyKey, verifyJsonSignature } from '../../src/core/signing.js';

export interface OldKey {
  keyId: string;
  publicKey: Uint8Array;
  expiredTs: number;
}

/** Our own key response: current key in verify_keys, retired keys in old_verify_keys, self-signed. */
export function buildKeyResponse(serverName: string, key: SigningKey, oldKeys: readonly OldKey[], validUntilTs: number): JsonObject {
  const old: JsonObject = {};
  for (const k of oldKeys) old[k.keyId] = { key: encodeBase64(k.publicKey), expired_ts: k.expiredTs };
  const body: JsonObject = {
    server_name: serverName,
    valid_until_ts: validUntilTs,
    verify_keys: { [key.keyId]: { key: encodeBase64(key.publicKey) } },
    old_verify_keys: old,
  };
  return signJson(body, serverName, key) as unknown as JsonObject;
}

export interface ParsedKeyResponse {
  serverName: string;
  validUntilTs: number;
  /** Current keys (no expiredTs) and old ones (expiredTs set). */
  keys: VerifyKey[];
}

function decodeKey(v: unknown): Uint8Array | undefined {
  if (!isJsonObject(v) || typeof v.key !== 'string') return undefined;
  try {
    const bytes = decodeBase64(v.key);
    return bytes.length === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a key response claimed to come from `serverName`: shape, and the origin's signature —
 * every signature it made with a key listed in verify_keys must verify, and there must be one.
 * Unknown algorithms are skipped. Never throws.
 */
export function parseKeyResponse(raw: unknown, serverName: string): { ok: true; value: ParsedKeyResponse } | { ok: false; reason: string } {
  if (!isJsonObject(raw)) return { ok: false, reason: 'key response is not an object' };
  if (raw.server_name !== serverName) return { ok: false, reason: `key response is for ${String(raw.server_name)}, not ${serverName}` };
  if (typeof raw.valid_until_ts !== 'number' || !Number.isSafeInteger(raw.valid_until_ts)) {
    return { ok: false, reason: 'key response lacks valid_until_ts' };
  }
  if (!isJsonObject(raw.verify_keys)) return { ok: false, reason: 'key response lacks verify_keys' };
  const keys: VerifyKey[] = [];
  for (const [keyId, v] of Object.entries(raw.verify_keys)) {
    if (!isValidKeyId(keyId)) continue;
    const publicKey = decodeKey(v);
    if (!publicKey) return { ok: false, reason: `verify key ${keyId} is malformed` };
    keys.push({ keyId, publicKey, validUntilTs: raw.valid_until_ts });
  }
  if (isJsonObject(raw.old_verify_keys)) {
    for (const [keyId, v] of Object.entries(raw.old_verify_keys)) {
      if (!isValidKeyId(keyId) || keys.some((k) => k.keyId === keyId)) continue;
      const publicKey = decodeKey(v);
      const expired = isJsonObject(v) ? v.expired_ts : undefined;
      if (!publicKey || typeof expired !== 'number') return { ok: false, reason: `old verify key ${keyId} is malformed` };
      keys.push({ keyId, publicKey, expiredTs: expired });
    }
  }
  const sigs = isJsonObject(raw.signatures) ? raw.signatures[serverName] : undefined;
  if (!isJsonObject(sigs)) return { ok: false, reason: `key response is not signed by ${serverName}` };
  let verified = 0;
  for (const keyId of Object.keys(sigs)) {
    const key = keys.find((k) => k.keyId === keyId && k.expiredTs === undefined);
    if (!key) continue;
    if (!verifyJsonSignature(raw, serverName, key)) return { ok: false, reason: `bad signature on key response with ${keyId}` };
    verified++;
  }
  if (verified === 0) return { ok: false, reason: `key response is not signed with any of ${serverName}'s verify keys` };
  return { ok: true, value: { serverName, validUntilTs: raw.valid_until_ts, keys } };
}

/** Whether `signer` signed `obj` with one of `keys` (and no signature of it with those keys is bad). */
export function isSignedBy(obj: JsonObject, signer: string, keys: readonly VerifyKey[]): boolean {
  const sigs = isJsonObject(obj.signatures) ? obj.signatures[signer] : undefined;
  if (!isJsonObject(sigs)) return false;
  let ok = 0;
  for (const keyId of Object.keys(sigs)) {
    const key = keys.find((k) => k.keyId === keyId);
    if (!key) continue;
    if (!verifyJsonSignature(obj, signer, key)) return false;
    ok++;
  }
  return ok > 0;
}
