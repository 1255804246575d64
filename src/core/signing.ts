/**
 * Ed25519 signing keys and JSON signatures (spec appendix "Signing JSON" / "Checking for a
 * Signature"), plus the Synapse-format signing key file.
 *
 * Signing and verification use node:crypto (OpenSSL) rather than tweetnacl: bench/crypto.ts
 * measured it well over an order of magnitude faster. OpenSSL wants KeyObjects, so they are
 * built from the raw 32-byte seed / public key via fixed DER prefixes and cached; building one
 * costs about as much as a verification.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { decodeBase64, encodeBase64 } from './base64.js';
import { canonicalJsonBytes } from './canonical-json.js';

export interface SigningKey {
  /** e.g. 'ed25519:a_xYzW' */
  keyId: string;
  /** 32-byte Ed25519 seed (the private key as stored in key files). */
  seed: Uint8Array;
  publicKey: Uint8Array;
}

export interface VerifyKey {
  keyId: string;
  publicKey: Uint8Array;
  /** From `verify_keys`: the key may be trusted for events up to this time. */
  validUntilTs?: number;
  /** From `old_verify_keys`: the key stopped being used at this time. */
  expiredTs?: number;
}

const ALGORITHM = 'ed25519';
/** Key versions must match `[a-zA-Z0-9_]` (server-server API, "Server Keys"); empty is not a version. */
const KEY_VERSION = /^[a-zA-Z0-9_]+$/;
const KEY_ID = /^ed25519:[a-zA-Z0-9_]+$/;

/** ASN.1 headers that wrap a raw Ed25519 seed (RFC 8410 PKCS#8) and public key (SPKI). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;

export function isValidKeyId(keyId: string): boolean {
  return typeof keyId === 'string' && KEY_ID.test(keyId);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- KeyObject caches --------------------------------------------------------------------

/** Keyed by the seed array itself: a SigningKey is long-lived and its seed never changes. */
const privateKeyCache = new WeakMap<Uint8Array, KeyObject>();

function privateKeyObject(seed: Uint8Array): KeyObject {
  let k = privateKeyCache.get(seed);
  if (k === undefined) {
    if (seed.length !== 32) throw new RangeError('ed25519 seed must be 32 bytes');
    k = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    privateKeyCache.set(seed, k);
  }
  return k;
}

/**
 * Public keys arrive as fresh arrays decoded from JSON each time, so they are cached by value.
 * Bounded, first-in-first-out: the set of servers we talk to is large but not unbounded.
 */
const PUBLIC_CACHE_LIMIT = 8192;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = toBuffer(publicKey).toString('latin1');
  let k = publicKeyCache.get(id);
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_CACHE_LIMIT) {
      publicKeyCache.delete(publicKeyCache.keys().next().value as string);
    }
    publicKeyCache.set(id, k);
  }
  return k;
}

// ---- keys --------------------------------------------------------------------------------

export function signingKeyFromSeed(seed: Uint8Array, keyId: string): SigningKey {
  if (!isValidKeyId(keyId)) throw new Error(`invalid signing key id: ${keyId}`);
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError('ed25519 seed must be 32 bytes');
  const own = new Uint8Array(seed); // our copy, so the cache key cannot be mutated behind our back
  const spki = createPublicKey(privateKeyObject(own)).export({ format: 'der', type: 'spki' });
  return { keyId, seed: own, publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)) };
}

const VERSION_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A new random key. The default version looks like Synapse's (`a_` + 4 letters). */
export function generateSigningKey(version?: string): SigningKey {
  let v = version;
  if (v === undefined) {
    v = 'a_';
    for (const b of randomBytes(4)) v += VERSION_ALPHABET[b % VERSION_ALPHABET.length];
  }
  if (!KEY_VERSION.test(v)) throw new Error(`invalid key version: ${v}`);
  return signingKeyFromSeed(new Uint8Array(randomBytes(32)), `${ALGORITHM}:${v}`);
}

// ---- raw signatures ----------------------------------------------------------------------

export function signBytes(message: Uint8Array, key: SigningKey): Uint8Array {
  const sig = sign(null, message, privateKeyObject(key.seed));
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/** False (never throws) for wrong-length signatures/keys or keys OpenSSL cannot decode. */
export function verifyBytes(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

// ---- signatures made here ----------------------------------------------------------------

/**
 * The last signatures this process made, with the exact bytes signed and the public key. The
 * event pipeline verifies every event, including those it has just built and signed; a
 * signature found here over byte-identical bytes under the same public key is valid by
 * construction, so the costly Ed25519 verification (about twice the cost of signing) is skipped.
 * Anything else (other bytes, other keys, older signatures) is verified as usual.
 */
const RECENT_SIGNATURES_LIMIT = 512;
const recentSignatures = new Map<string, { message: Buffer; publicKey: Uint8Array }>();

function rememberSignature(signature: string, message: Buffer, publicKey: Uint8Array): void {
  if (recentSignatures.size >= RECENT_SIGNATURES_LIMIT) {
    recentSignatures.delete(recentSignatures.keys().next().value as string);
  }
  recentSignatures.set(signature, { message, publicKey });
}

function signedHere(signature: string, message: Buffer, publicKey: Uint8Array): boolean {
  const mine = recentSignatures.get(signature);
  return mine !== undefined && toBuffer(mine.publicKey).equals(toBuffer(publicKey)) && mine.message.equals(message);
}

// ---- JSON signatures ---------------------------------------------------------------------

export type Signatures = Record<string, Record<string, string>>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Signs bytes already produced by `signedBytes` (for callers that need those bytes themselves too)
 * and returns the base64 signature; remembered like `signJson`'s, so checking it later is cheap.
 */
export function signMessage(message: Buffer, key: SigningKey): string {
  const signature = encodeBase64(signBytes(message, key));
  rememberSignature(signature, message, key.publicKey);
  return signature;
}

/** Checks a base64 signature over bytes produced by `signedBytes`. Never throws. */
export function verifyMessageSignature(message: Buffer, b64: string, key: VerifyKey): boolean {
  if (!isValidKeyId(key.keyId)) return false;
  if (signedHere(b64, message, key.publicKey)) return true;
  let signature: Uint8Array;
  try {
    signature = decodeBase64(b64);
  } catch {
    return false;
  }
  return verifyBytes(message, signature, key.publicKey);
}

/** The bytes a signature covers: the canonical JSON of the object without `signatures` and `unsigned`. */
export function signedBytes(obj: object): Buffer {
  const { signatures: _s, unsigned: _u, ...rest } = obj as Record<string, unknown>;
  return canonicalJsonBytes(rest);
}

/**
 * Returns a copy of `obj` with signatures[signingName][keyId] set; other signatures (and
 * `unsigned`) are kept. Throws CanonicalJsonError if the object is not canonical-JSON-encodable.
 */
export function signJson<T extends object>(obj: T, signingName: string, key: SigningKey): T & { signatures: Signatures } {
  const existing = (obj as Record<string, unknown>).signatures;
  if (existing !== undefined && !isPlainObject(existing)) throw new TypeError('signatures must be an object');
  const mine = existing?.[signingName];
  if (mine !== undefined && !isPlainObject(mine)) throw new TypeError(`signatures.${signingName} must be an object`);
  const message = signedBytes(obj);
  const signature = encodeBase64(signBytes(message, key));
  rememberSignature(signature, message, key.publicKey);
  const signatures: Signatures = { ...(existing as Signatures | undefined) };
  signatures[signingName] = { ...(mine as Record<string, string> | undefined), [key.keyId]: signature };
  return { ...obj, signatures };
}

/**
 * Checks signatures[signingName][key.keyId] against `key`. Returns false, never throws, when the
 * signature is missing, not a string, not base64, the wrong length, the key is not ed25519 or the
 * object is not canonical-JSON-encodable. Key validity periods are the caller's business
 * (see isKeyValidForEvent).
 */
export function verifyJsonSignature(obj: object, signingName: string, key: VerifyKey): boolean {
  if (!isPlainObject(obj) || !isValidKeyId(key.keyId)) return false;
  const sigs = obj.signatures;
  if (!isPlainObject(sigs)) return false;
  const entry = sigs[signingName];
  if (!isPlainObject(entry)) return false;
  const b64 = entry[key.keyId];
  if (typeof b64 !== 'string') return false;
  let signature: Uint8Array;
  let message: Buffer;
  try {
    signature = decodeBase64(b64);
    message = signedBytes(obj);
  } catch {
    return false;
  }
  if (signedHere(b64, message, key.publicKey)) return true;
  return verifyBytes(message, signature, key.publicKey);
}

// ---- key validity (room versions that enforce it, see v5 signing requirements) -------------

/**
 * Whether `key` may be used to check the signature of an event sent at `originServerTs`.
 * When `enforce` (the room version's rule) is set, the key's `valid_until_ts` — or, for an old
 * key, its `expired_ts` — must be at least the event's `origin_server_ts`. A key carrying
 * neither (e.g. our own current key) has no known end and is valid.
 *
 * The spec's "lesser of valid_until_ts and 7 days into the future" belongs where keys are
 * fetched and stored: apply capValidUntilTs there, so this check stays a pure comparison.
 */
export function isKeyValidForEvent(key: VerifyKey, originServerTs: number, enforce: boolean): boolean {
  if (!enforce) return true;
  let until = Number.POSITIVE_INFINITY;
  if (typeof key.validUntilTs === 'number') until = key.validUntilTs;
  if (typeof key.expiredTs === 'number') until = Math.min(until, key.expiredTs);
  return until >= originServerTs;
}

/** The `valid_until_ts` to store for a key fetched at `fetchedAtTs`: never more than 7 days ahead. */
export function capValidUntilTs(validUntilTs: number, fetchedAtTs: number): number {
  return Math.min(validUntilTs, fetchedAtTs + SEVEN_DAYS_MS);
}

// ---- Synapse signing key file -------------------------------------------------------------

/**
 * Parses Synapse's signing key file: one `ed25519 <version> <unpadded base64 seed>` per line.
 * Blank lines are ignored; anything else malformed throws (with the line number).
 */
export function parseSigningKeyFile(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const where = `signing key file line ${i + 1}`;
    if (parts.length !== 3) throw new Error(`${where}: expected "<algorithm> <version> <base64 seed>"`);
    const [alg, version, b64] = parts;
    if (alg !== ALGORITHM) throw new Error(`${where}: unsupported algorithm ${alg}`);
    if (!KEY_VERSION.test(version)) throw new Error(`${where}: invalid key version ${version}`);
    let seed: Uint8Array;
    try {
      seed = decodeBase64(b64);
    } catch {
      throw new Error(`${where}: seed is not valid base64`);
    }
    if (seed.length !== 32) throw new Error(`${where}: seed must be 32 bytes, got ${seed.length}`);
    keys.push(signingKeyFromSeed(seed, `${alg}:${version}`));
  }
  return keys;
}

export function formatSigningKeyFile(keys: SigningKey[]): string {
  return keys
    .map((k) => {
      if (!isValidKeyId(k.keyId)) throw new Error(`invalid signing key id: ${k.keyId}`);
      const [alg, version] = k.keyId.split(':');
      return `${alg} ${version} ${encodeBase64(k.seed)}\n`;
    })
    .join('');
}
