/**
 * The canonical encodings of PDUs this process built and signed itself, remembered so that the
 * checks every event goes through (format and size, content hash, event ID / reference hash,
 * signatures) reuse the bytes the builder already produced instead of encoding the event again:
 * a local message used to be canonically encoded about eight times between build and store.
 *
 * Only the builder registers PDUs, right after creating them, and PDUs are never modified in place
 * anywhere in Comet (every change makes a new object), so an entry cannot go stale. Entries die
 * with their PDU objects (WeakMap). Events from elsewhere are never registered and are encoded
 * in full by the checks.
 */
import { canonicalJson } from './canonical-json.js';
import type { Pdu } from './pdu.js';

export interface PduEncoding {
  /** The room version the redacted form was computed for. */
  versionId: string;
  /** Canonical JSON of the redacted PDU without `signatures` and `unsigned`: what the signatures and the reference hash cover. */
  redactedSigned: Buffer;
  /** Base64 SHA-256 content hash over the PDU without `unsigned`, `signatures` and `hashes`. */
  contentHash: string;
  /** UTF-8 byte length of the canonical JSON of the PDU without `unsigned` (the size limit's measure). */
  size: number;
}

const known = new WeakMap<object, PduEncoding>();

export function rememberEncoding(pdu: Pdu, encoding: PduEncoding): void {
  known.set(pdu, encoding);
}

/** The remembered encoding of `pdu` for `versionId`, if this process built it. */
export function encodingOf(pdu: Pdu, versionId: string): PduEncoding | undefined {
  const e = known.get(pdu);
  return e !== undefined && e.versionId === versionId ? e : undefined;
}

/** Any remembered encoding of `pdu` (the version-independent parts: content hash, size). */
export function anyEncodingOf(pdu: Pdu): PduEncoding | undefined {
  return known.get(pdu);
}

/**
 * The canonical size of `pdu` (without `unsigned`) from the size of its content-hash input (which
 * lacks `hashes` and `signatures`): sorted-key objects with other keys present grow by exactly
 * `"key":value,` per added key.
 */
export function sizeWithHashesAndSignatures(contentHashInputBytes: number, pdu: Pdu): number {
  const extra = `"hashes":${canonicalJson(pdu.hashes)},"signatures":${canonicalJson(pdu.signatures)},`;
  return contentHashInputBytes + Buffer.byteLength(extra, 'utf8');
}
