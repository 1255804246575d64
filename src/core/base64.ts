/**
 * Unpadded Base64 (spec appendix "Unpadded Base64") in the standard and URL-safe alphabets.
 *
 * Node's own base64 decoder silently skips characters outside the alphabet, so input is
 * validated first. Decoding is liberal where the spec asks for it (padding optional, either
 * alphabet) but one string may not mix the two alphabets. Non-zero trailing bits in the last
 * character are tolerated, as Python's decoder (used by Synapse) does: the spec's own test
 * signing key seed `…XA1` has them (the canonical encoding of those bytes ends in `…XA0`).
 */

function view(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  const s = view(bytes).toString('base64');
  // At most two '=' at the end.
  if (s.endsWith('==')) return s.slice(0, -2);
  if (s.endsWith('=')) return s.slice(0, -1);
  return s;
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return view(bytes).toString('base64url'); // Node's base64url is already unpadded
}

const STD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9\-_]*$/;

export function decodeBase64(s: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError('base64 input must be a string');
  let body = s;
  if (body.endsWith('=')) {
    if (s.length % 4 !== 0) throw new Error('invalid base64: bad padding');
    body = body.endsWith('==') ? body.slice(0, -2) : body.slice(0, -1);
  }
  // One leftover character carries only 6 bits: never a whole byte.
  if (body.length % 4 === 1) throw new Error('invalid base64: bad length');
  if (!STD.test(body) && !URL_SAFE.test(body)) throw new Error('invalid base64: unexpected character');
  const buf = Buffer.from(body, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
