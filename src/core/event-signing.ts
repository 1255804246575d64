/**
 * Hashing and signing outgoing events, and checking the signatures on received ones
 * (server-server spec, "Signing Events"; room version 5+ "Signing key validity period").
 */
import type { ValidationResult } from './event-format.js';
import { contentHashInput, contentHashOf } from './event-hashes.js';
import { isJsonObject } from './json.js';
import { type Pdu, domainOf } from './pdu.js';
import { redactPdu } from './redaction.js';
import { type SigningKey, type VerifyKey, isKeyValidForEvent, signedBytes, signMessage, verifyMessageSignature } from './signing.js';
import { encodingOf, rememberEncoding, sizeWithHashesAndSignatures } from './pdu-encoding.js';
import type { RoomVersion } from '../rooms/versions.js';

/**
 * Returns a copy of `pdu` with `hashes.sha256` set to its content hash and this server's signature
 * (over the redacted form) added next to any signatures already present.
 */
export function hashAndSignEvent(pdu: Pdu, serverName: string, key: SigningKey, version: RoomVersion): Pdu {
  const hashInput = contentHashInput(pdu);
  const contentHash = contentHashOf(hashInput);
  const hashed: Pdu = { ...pdu, hashes: { sha256: contentHash } };
  // What the signature covers is also what the event ID (reference hash) covers: encode it once.
  const redactedSigned = signedBytes(redactPdu(hashed, version));
  const existing = (hashed.signatures ?? {}) as Record<string, Record<string, string>>;
  const signatures = { ...existing, [serverName]: { ...existing[serverName], [key.keyId]: signMessage(redactedSigned, key) } };
  const signed: Pdu = { ...hashed, signatures };
  rememberEncoding(signed, {
    versionId: version.id,
    redactedSigned,
    contentHash,
    size: sizeWithHashesAndSignatures(hashInput.length, signed),
  });
  return signed;
}

/** A member invite made from a third-party invite; its sender's server need not have signed it. */
function isThirdPartyInvite(pdu: Pdu): boolean {
  return (
    pdu.type === 'm.room.member' &&
    isJsonObject(pdu.content) &&
    pdu.content.membership === 'invite' &&
    pdu.content.third_party_invite !== undefined
  );
}

/**
 * The servers whose signatures the event must carry: the sender's server (except on invites
 * made from a third-party invite, which the spec lets another server send); in v1/v2 also the
 * server named in `event_id`; and for restricted-room joins the server of the user named in
 * `join_authorised_via_users_server`.
 */
export function requiredSignatures(pdu: Pdu, version: RoomVersion): string[] {
  const servers = new Set<string>();
  if (!isThirdPartyInvite(pdu)) servers.add(domainOf(pdu.sender));
  if (version.eventIdFormat === 'server-assigned' && typeof pdu.event_id === 'string') servers.add(domainOf(pdu.event_id));
  if (version.restrictedJoinRule && pdu.type === 'm.room.member' && isJsonObject(pdu.content) && pdu.content.membership === 'join') {
    const via = pdu.content.join_authorised_via_users_server;
    if (typeof via === 'string') servers.add(domainOf(via));
  }
  return [...servers];
}

type ServerCheck = { verified: number; bad?: string };

/** `message`: the bytes the signatures cover (undefined when the event cannot be encoded: every signature is then bad). */
function checkServer(pdu: Pdu, message: Buffer | undefined, server: string, ts: number, version: RoomVersion, keyFor: (server: string, keyId: string) => VerifyKey | undefined): ServerCheck {
  const sigs = pdu.signatures?.[server];
  let verified = 0;
  if (!isJsonObject(sigs)) return { verified };
  for (const keyId of Object.keys(sigs)) {
    // Unknown algorithms and unknown keys are skipped, not failures. So are keys used outside
    // their validity (`valid_until_ts`, or `expired_ts` for old keys) where the room version
    // enforces it (v5+); older rooms' history was signed without that rule.
    if (!keyId.startsWith('ed25519:')) continue;
    const key = keyFor(server, keyId);
    if (key === undefined || !isKeyValidForEvent(key, ts, version.enforceKeyValidity)) continue;
    const sig = sigs[keyId];
    if (message === undefined || typeof sig !== 'string' || !verifyMessageSignature(message, sig, key)) return { verified, bad: `bad signature from ${server} with ${keyId}` };
    verified++;
  }
  return { verified };
}

/**
 * Verifies the signatures the event needs (see requiredSignatures) on its redacted form, so a
 * redacted copy verifies as well as the full event. Every signature made with a known, usable key
 * of a required server must be valid, and each required server needs at least one. Never throws.
 */
export function verifyEventSignatures(
  pdu: Pdu,
  version: RoomVersion,
  keyFor: (server: string, keyId: string) => VerifyKey | undefined,
): ValidationResult<true> {
  try {
    let message = encodingOf(pdu, version.id)?.redactedSigned;
    if (message === undefined) {
      try {
        message = signedBytes(redactPdu(pdu, version));
      } catch {
        // Not encodable: no signature can be valid.
      }
    }
    const ts = pdu.origin_server_ts;
    const required = requiredSignatures(pdu, version);
    for (const server of required) {
      const r = checkServer(pdu, message, server, ts, version, keyFor);
      if (r.bad !== undefined) return { ok: false, reason: r.bad };
      if (r.verified === 0) return { ok: false, reason: `no valid signature from ${server} with a known key` };
    }
    if (required.length === 0) {
      // A third-party invite in v3+: whoever sent it must still have signed it.
      let any = 0;
      for (const server of Object.keys(pdu.signatures ?? {})) {
        const r = checkServer(pdu, message, server, ts, version, keyFor);
        if (r.bad !== undefined) return { ok: false, reason: r.bad };
        any += r.verified;
      }
      if (any === 0) return { ok: false, reason: 'no valid signature from any server with a known key' };
    }
    return { ok: true, value: true };
  } catch (e) {
    return { ok: false, reason: `cannot verify signatures: ${e instanceof Error ? e.message : String(e)}` };
  }
}
