/**
 * Content hashes, reference hashes and the IDs derived from them (server-server spec, "Calculating
 * the content hash / reference hash for an event"; room versions' "Event IDs"; appendices "Room IDs").
 */
import { createHash } from 'node:crypto';
import { decodeBase64, encodeBase64, encodeBase64Url } from './base64.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { isJsonObject } from './json.js';
import type { Pdu } from './pdu.js';
import { anyEncodingOf, encodingOf } from './pdu-encoding.js';
import { redactPdu } from './redaction.js';
import { type RoomVersion, getRoomVersion, knownRoomVersions } from '../rooms/versions.js';

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

function withoutKeys(obj: object, keys: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
  for (const k of keys) delete copy[k];
  return copy;
}

/** What the content hash covers: the canonical JSON of the PDU without `unsigned`, `signatures` and `hashes`. */
export function contentHashInput(pdu: object): Buffer {
  return canonicalJsonBytes(withoutKeys(pdu, ['unsigned', 'signatures', 'hashes']));
}

function contentHashBytes(pdu: object): Uint8Array {
  return sha256(contentHashInput(pdu));
}

export function contentHashOf(input: Buffer): string {
  return encodeBase64(sha256(input));
}

/**
 * Unpadded standard base64 SHA-256 of the whole event minus `unsigned`, `signatures` and `hashes`.
 * Throws CanonicalJsonError if the event cannot be encoded as canonical JSON.
 */
export function computeContentHash(pdu: object): string {
  return encodeBase64(contentHashBytes(pdu));
}

/** Whether `hashes.sha256` matches the event. False (never throws) on any malformed input. */
export function checkContentHash(pdu: Pdu): boolean {
  try {
    const claimed = pdu.hashes?.sha256;
    if (typeof claimed !== 'string') return false;
    const built = anyEncodingOf(pdu);
    if (built !== undefined) return claimed === built.contentHash;
    const expected = contentHashBytes(pdu);
    const got = decodeBase64(claimed);
    return got.length === expected.length && got.every((b, i) => b === expected[i]);
  } catch {
    return false;
  }
}

/**
 * The canonical JSON of the redacted event without `signatures` and `unsigned`. Both the
 * reference hash and every signature on the event cover exactly these bytes, so a caller that
 * needs both computes them once. Throws CanonicalJsonError if the event cannot be encoded.
 */
export function redactedEventBytes(pdu: Pdu, version: RoomVersion): Buffer {
  const built = encodingOf(pdu, version.id);
  if (built !== undefined) return built.redactedSigned;
  return canonicalJsonBytes(withoutKeys(redactPdu(pdu, version), ['signatures', 'unsigned']));
}

/** SHA-256 of the redacted event without `signatures` and `unsigned`, as canonical JSON. */
export function referenceHash(pdu: Pdu, version: RoomVersion, redactedBytes?: Uint8Array): Uint8Array {
  // The reference hash covers exactly the bytes the signatures cover.
  if (redactedBytes !== undefined) return sha256(redactedBytes);
  const built = encodingOf(pdu, version.id);
  if (built !== undefined) return sha256(built.redactedSigned);
  return sha256(redactedEventBytes(pdu, version));
}

/**
 * The event's ID. Room versions 1 and 2 carry a server-assigned `event_id`; later versions derive
 * it from the reference hash. Throws if a v1/v2 event has no `event_id` (validatePdu rejects those).
 */
export function computeEventId(pdu: Pdu, version: RoomVersion, redactedBytes?: Uint8Array): string {
  switch (version.eventIdFormat) {
    case 'server-assigned':
      if (typeof pdu.event_id !== 'string') throw new Error('event has no event_id');
      return pdu.event_id;
    case 'reference-hash':
      return '$' + encodeBase64(referenceHash(pdu, version, redactedBytes));
    case 'reference-hash-urlsafe':
      return '$' + encodeBase64Url(referenceHash(pdu, version, redactedBytes));
  }
}

/**
 * Room ID of a room whose ID is derived from its create event: `!` + URL-safe reference hash, i.e.
 * the create event's ID with `!` for `$`. The version defaults to the one named by the create
 * event's `content.room_version` (or the first known version with derived room IDs).
 */
export function roomIdFromCreateEvent(pdu: Pdu, version?: RoomVersion): string {
  const named = isJsonObject(pdu.content) && typeof pdu.content.room_version === 'string' ? getRoomVersion(pdu.content.room_version) : undefined;
  const v = version ?? (named?.roomIdFromCreateEvent ? named : knownRoomVersions().find((x) => x.roomIdFromCreateEvent));
  if (v === undefined) throw new Error('no room version derives room IDs from the create event');
  return '!' + encodeBase64Url(referenceHash(pdu, v));
}
