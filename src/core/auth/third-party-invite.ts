/**
 * Invites made by accepting a third-party (e.g. email) invite: the invitee proves, with a
 * signature from the identity server, that they own the invited address.
 */
import type { RoomVersion } from '../../rooms/versions.js';
import { decodeBase64 } from '../base64.js';
import { isJsonObject, type JsonObject } from '../json.js';
import type { RoomEvent } from '../pdu.js';
import { signedBytes, verifyBytes } from '../signing.js';
import { own } from './power-levels.js';
import { ALLOW, type AuthResult, type AuthStateLookup, deny, membershipOf, THIRD_PARTY_INVITE } from './types.js';

/** The identity server public keys a `m.room.third_party_invite` event offers, decoded. */
function inviteKeys(invite: JsonObject): Uint8Array[] {
  const encoded: string[] = [];
  const single = own(invite, 'public_key');
  if (typeof single === 'string') encoded.push(single);
  const list = own(invite, 'public_keys');
  if (Array.isArray(list)) {
    for (const entry of list) {
      if (!isJsonObject(entry)) continue;
      const k = own(entry, 'public_key');
      if (typeof k === 'string') encoded.push(k);
    }
  }
  const keys: Uint8Array[] = [];
  for (const k of encoded) {
    try {
      keys.push(decodeBase64(k));
    } catch {
      // An undecodable key simply matches no signature.
    }
  }
  return keys;
}

/**
 * Whether any signature in `signed` verifies under any of the keys. Every signature is tried
 * against every key, whatever server name and key ID it is filed under, as the rule says.
 */
function signedByAnyKey(signed: JsonObject, keys: readonly Uint8Array[]): boolean {
  const signatures = own(signed, 'signatures');
  if (!isJsonObject(signatures) || keys.length === 0) return false;
  let message: Uint8Array;
  try {
    message = signedBytes(signed);
  } catch {
    return false; // not canonical-JSON-encodable, so it cannot carry a valid signature
  }
  for (const byKeyId of Object.values(signatures)) {
    if (!isJsonObject(byKeyId)) continue;
    for (const encoded of Object.values(byKeyId)) {
      if (typeof encoded !== 'string') continue;
      let signature: Uint8Array;
      try {
        signature = decodeBase64(encoded);
      } catch {
        continue;
      }
      if (keys.some((key) => verifyBytes(message, signature, key))) return true;
    }
  }
  return false;
}

/** Rule "membership is invite and content has third_party_invite" (5.4.1 in v12 numbering). */
export function checkThirdPartyInvite(_version: RoomVersion, event: RoomEvent, state: AuthStateLookup): AuthResult {
  const target = event.stateKey ?? '';
  if (membershipOf(state, target) === 'ban') return deny(`member: third-party invite: target ${target} is banned`);
  const tpi = own(event.content, 'third_party_invite');
  const signed = isJsonObject(tpi) ? own(tpi, 'signed') : undefined;
  if (!isJsonObject(signed)) return deny('member: third-party invite: third_party_invite has no signed object');
  const mxid = own(signed, 'mxid');
  const token = own(signed, 'token');
  if (mxid === undefined || token === undefined) {
    return deny('member: third-party invite: signed lacks mxid or token');
  }
  if (mxid !== target) return deny('member: third-party invite: signed.mxid does not match the state_key');
  const invite = typeof token === 'string' ? state(THIRD_PARTY_INVITE, token) : undefined;
  if (!invite) return deny('member: third-party invite: no m.room.third_party_invite event for the token');
  if (invite.sender !== event.sender) {
    return deny('member: third-party invite: sender does not match the sender of the m.room.third_party_invite');
  }
  if (signedByAnyKey(signed, inviteKeys(invite.content))) return ALLOW;
  return deny('member: third-party invite: no signature in signed matches a public key of the invite');
}
