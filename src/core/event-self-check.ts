/**
 * The checks an event gets on its own, before any other event is consulted (server-server spec,
 * "Checks performed on receipt of a PDU", steps 1–3): format, signatures, content hash — plus
 * its ID, which comes from the same redacted bytes the signatures cover. Pure and synchronous,
 * so it runs the same on the event loop or on a worker thread (src/room-engine/signature-verifier.ts).
 */
import { validatePdu } from './event-format.js';
import { checkContentHash, computeEventId, redactedEventBytes } from './event-hashes.js';
import { requiredSignatures, verifyEventSignatures } from './event-signing.js';
import { isJsonObject } from './json.js';
import type { Pdu } from './pdu.js';
import type { VerifyKey } from './signing.js';
import type { RoomVersion } from '../rooms/versions.js';

export type SelfCheck =
  /** `raw` is a valid, properly signed PDU with this ID; a content hash mismatch means it is to be redacted. */
  | { ok: true; eventId: string; contentHashOk: boolean }
  /** Malformed (no `eventId`) or not properly signed: to be dropped. */
  | { ok: false; eventId?: string; reason: string };

export function selfCheckEvent(raw: unknown, version: RoomVersion, keyFor: (server: string, keyId: string) => VerifyKey | undefined): SelfCheck {
  const v = validatePdu(raw, version);
  if (!v.ok) return { ok: false, reason: v.reason };
  let bytes: Uint8Array;
  try {
    bytes = redactedEventBytes(v.value, version);
  } catch (e) {
    return { ok: false, reason: `cannot verify signatures: ${e instanceof Error ? e.message : String(e)}` };
  }
  const eventId = computeEventId(v.value, version, bytes);
  const sig = verifyEventSignatures(v.value, version, keyFor, bytes);
  if (!sig.ok) return { ok: false, eventId, reason: sig.reason };
  return { ok: true, eventId, contentHashOk: checkContentHash(v.value) };
}

/**
 * The servers and key IDs whose keys checking `raw`'s signatures needs, read from a PDU that has
 * not been validated yet (anything malformed just wants nothing), so keys can be fetched first.
 */
export function wantedKeys(raw: unknown, version: RoomVersion): Array<[server: string, keyIds: string[]]> {
  if (!isJsonObject(raw) || typeof raw.sender !== 'string' || !isJsonObject(raw.signatures)) return [];
  const sigs = raw.signatures;
  try {
    const servers = requiredSignatures(raw as unknown as Pdu, version);
    // A third-party invite needs any server's signature.
    const names = servers.length > 0 ? servers : Object.keys(sigs);
    return names.map((s) => [s, isJsonObject(sigs[s]) ? Object.keys(sigs[s]) : []]);
  } catch {
    return [];
  }
}
