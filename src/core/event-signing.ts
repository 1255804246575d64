/**
 * Hashing and signing outgoing events, and checking the signatures on received ones
 * (server-server spec, "Signing Events"; room version 5+ "Signing key validity period").
 */
import type { ValidationResult } from './event-format.js';
import { decodeBase64 } from './base64.js';
import { contentHashInput, contentHashOf, redactedEventBytes } from './event-hashes.js';
import { isJsonObject } from './json.js';
import { type Pdu, domainOf } from './pdu.js';
import { redactPdu } from './redaction.js';
import { type SigningKey, type VerifyKey, isKeyValidForEvent, isValidKeyId, signedBytes, signMessage, verifyBytes } from './signing.js';
import { rememberEncoding, sizeWithHashesAndSignatures } from './pdu-encoding.js';
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

/** One signature to verify: the event's redacted bytes (see redactedEventBytes) against `publicKey`. */
export interface SignatureCheck {
  keyId: string;
  publicKey: Uint8Array;
  /** Undefined when the signature is not valid base64 (it then counts as bad). */
  signature: Uint8Array | undefined;
}

/**
 * The signatures an event's verdict depends on, server by server in the order they are judged.
 * Planning is cheap; verifying is the expensive part, which lets a caller verify many events'
 * signatures together (e.g. on worker threads) and then judge each with signatureVerdict.
 */
export interface SignaturePlan {
  servers: Array<{ server: string; checks: SignatureCheck[] }>;
  /** No server is required (a v3+ third-party invite): one valid signature from any server suffices. */
  anyServer: boolean;
}

function serverChecks(pdu: Pdu, server: string, version: RoomVersion, keyFor: (server: string, keyId: string) => VerifyKey | undefined): SignatureCheck[] {
  const sigs = pdu.signatures?.[server];
  const out: SignatureCheck[] = [];
  if (!isJsonObject(sigs)) return out;
  for (const keyId of Object.keys(sigs)) {
    // Unknown algorithms and unknown keys are skipped, not failures. So are keys used outside
    // their validity (`valid_until_ts`, or `expired_ts` for old keys) where the room version
    // enforces it (v5+); older rooms' history was signed without that rule.
    if (!keyId.startsWith('ed25519:')) continue;
    const key = keyFor(server, keyId);
    if (key === undefined || !isKeyValidForEvent(key, pdu.origin_server_ts, version.enforceKeyValidity)) continue;
    const b64 = sigs[keyId];
    let signature: Uint8Array | undefined;
    try {
      signature = typeof b64 === 'string' && isValidKeyId(key.keyId) ? decodeBase64(b64) : undefined;
    } catch {
      signature = undefined;
    }
    out.push({ keyId, publicKey: key.publicKey, signature });
  }
  return out;
}

/** Which signatures decide whether the event is properly signed (see verifyEventSignatures). */
export function planSignatureChecks(pdu: Pdu, version: RoomVersion, keyFor: (server: string, keyId: string) => VerifyKey | undefined): SignaturePlan {
  const required = requiredSignatures(pdu, version);
  // A third-party invite in v3+: whoever sent it must still have signed it.
  const servers = required.length > 0 ? required : Object.keys(pdu.signatures ?? {});
  return { servers: servers.map((server) => ({ server, checks: serverChecks(pdu, server, version, keyFor) })), anyServer: required.length === 0 };
}

/**
 * The verdict once the plan's signatures are verified (`valid[i][j]` for `plan.servers[i].checks[j]`):
 * every signature made with a known, usable key of a required server must be valid, and each
 * required server needs at least one.
 */
export function signatureVerdict(plan: SignaturePlan, valid: readonly (readonly boolean[])[]): ValidationResult<true> {
  let any = 0;
  for (const [i, { server, checks }] of plan.servers.entries()) {
    const bad = checks.findIndex((_, j) => !valid[i][j]);
    if (bad >= 0) return { ok: false, reason: `bad signature from ${server} with ${checks[bad].keyId}` };
    if (!plan.anyServer && checks.length === 0) return { ok: false, reason: `no valid signature from ${server} with a known key` };
    any += checks.length;
  }
  if (plan.anyServer && any === 0) return { ok: false, reason: 'no valid signature from any server with a known key' };
  return { ok: true, value: true };
}

/**
 * Verifies the signatures the event needs (see requiredSignatures) on its redacted form, so a
 * redacted copy verifies as well as the full event. Every signature made with a known, usable key
 * of a required server must be valid, and each required server needs at least one. Never throws.
 * `redactedBytes` (see redactedEventBytes) saves encoding the event again when the caller has them.
 */
export function verifyEventSignatures(
  pdu: Pdu,
  version: RoomVersion,
  keyFor: (server: string, keyId: string) => VerifyKey | undefined,
  redactedBytes?: Uint8Array,
): ValidationResult<true> {
  try {
    const plan = planSignatureChecks(pdu, version, keyFor);
    const bytes = redactedBytes ?? redactedEventBytes(pdu, version);
    const valid = plan.servers.map(({ checks }) => checks.map((c) => c.signature !== undefined && verifyBytes(bytes, c.signature, c.publicKey)));
    return signatureVerdict(plan, valid);
  } catch (e) {
    return { ok: false, reason: `cannot verify signatures: ${e instanceof Error ? e.message : String(e)}` };
  }
}
