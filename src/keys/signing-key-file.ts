/** Loads the server's signing key from disk, generating and saving one on first start. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatSigningKeyFile, generateSigningKey, parseSigningKeyFile, type SigningKey } from '../core/signing.js';

export function loadOrCreateSigningKey(path: string): { key: SigningKey; created: boolean } {
  if (existsSync(path)) {
    const keys = parseSigningKeyFile(readFileSync(path, 'utf8'));
    if (keys.length === 0) throw new Error(`signing key file ${path} holds no key`);
    return { key: keys[0], created: false };
  }
  const key = generateSigningKey();
  mkdirSync(dirname(path), { recursive: true });
  // wx: never overwrite a key another process wrote in the meantime; 0600: it is a secret.
  writeFileSync(path, formatSigningKeyFile([key]), { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}
