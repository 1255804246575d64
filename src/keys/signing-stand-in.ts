/**
 * TEMPORARY stand-in for src/core/signing.ts (crypto helper, not merged yet): only the key-file
 * functions the server needs at start, with the same names and signatures. Replace the import in
 * signing-key-file.ts with ../core/signing.js and delete this file once that branch is merged.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

export interface SigningKey {
  keyId: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function publicKeyOf(seed: Uint8Array): Uint8Array {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

export function signingKeyFromSeed(seed: Uint8Array, keyId: string): SigningKey {
  return { keyId, seed, publicKey: publicKeyOf(seed) };
}

export function generateSigningKey(version?: string): SigningKey {
  const v = version ?? `a_${randomBytes(3).toString('base64url').replace(/[^A-Za-z0-9_]/g, 'x')}`;
  return signingKeyFromSeed(new Uint8Array(randomBytes(32)), `ed25519:${v}`);
}

export function parseSigningKeyFile(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const [alg, version, seed64] = t.split(/\s+/);
    if (alg !== 'ed25519' || !version || !seed64) throw new Error(`bad signing key line: ${t.slice(0, 40)}`);
    const seed = Buffer.from(seed64, 'base64');
    if (seed.length !== 32) throw new Error('signing key seed must be 32 bytes');
    keys.push(signingKeyFromSeed(new Uint8Array(seed), `ed25519:${version}`));
  }
  return keys;
}

export function formatSigningKeyFile(keys: SigningKey[]): string {
  return keys
    .map((k) => `ed25519 ${k.keyId.slice('ed25519:'.length)} ${Buffer.from(k.seed).toString('base64').replace(/=+$/, '')}\n`)
    .join('');
}
