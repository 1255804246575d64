/** Opaque random tokens and IDs. Only SHA-256 hashes of tokens are stored. */
import { createHash, randomBytes } from 'node:crypto';

export function newAccessToken(): string {
  return `cma_${randomBytes(32).toString('base64url')}`;
}

export function newRefreshToken(): string {
  return `cmr_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

const DEVICE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ten upper-case letters, like the device IDs clients are used to seeing. */
export function newDeviceId(): string {
  const bytes = randomBytes(10);
  let s = '';
  for (const b of bytes) s += DEVICE_ALPHABET[b % DEVICE_ALPHABET.length];
  return s;
}

export function newSessionId(): string {
  return randomBytes(18).toString('base64url');
}
