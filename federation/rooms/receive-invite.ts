/**
 * invite (v2), on the invitee's server: checks that the invite is well formed, for a local
 * user, sent by a user of the requesting server and signed by it; countersigns it; and, when no
 * local user is in the room, keeps it as an outlier with the stripped room state the inviter sent
 * (`unsigned.invite_room_state`) so /sync can show the invite. When a local user is in the room
 * the invite arrives again through /send as an ordinary event.
 */
import { checkContentHash } from '../../src/core/event-hashes.js';
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import { requiredSignatures, verifyEventSignatures } from '../../src/core/event-signing.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';
import { domainOf, type Pdu } from '../../src/core/pdu.js';
import type { VerifyKey } from '../../src/core/signing.js';
import { forbidden, notFound } from '../../src/http/errors.js';
import { getRoomVersion, type RoomVersion } from '../../src/rooms/versions.js';
import { badEvent, countersign, incompatibleVersion, type RoomFederationDeps } from './room-federation-deps.js';

export interface InviteRequest {
  room_version: string;
  event: unknown;
  invite_room_state?: JsonValue[];
}

/**
 * The room version of an invite that came through invite v1, which carries none. The spec has the
 * receiver assume "1" or "2" (the same event format; they differ only in state resolution, which an
 * invite does not use). A room known here under a later format cannot take a v1 invite.
 */
export async function inviteV1RoomVersion(deps: RoomFederationDeps, roomId: string): Promise<RoomVersion> {
  const known = await deps.storage.events.getRoom(roomId);
  const version = known ? getRoomVersion(known.version) : undefined;
  if (version && version.eventIdFormat === 'server-assigned') return version;
  if (known) throw incompatibleVersion(known.version);
  const v1 = getRoomVersion('1');
  if (!v1) throw incompatibleVersion('1');
  return v1;
}

export async function receiveInvite(
  deps: RoomFederationDeps,
  origin: string,
  roomId: string,
  eventId: string,
  body: InviteRequest,
): Promise<{ event: Pdu }> {
  const version = getRoomVersion(body.room_version);
  if (!version) throw incompatibleVersion(body.room_version);
  const valid = validatePdu(body.event, version);
  if (!valid.ok) throw badEvent(valid.reason);
  const ev = toRoomEvent(valid.value, version);
  if (ev.eventId !== eventId) throw badEvent(`event ID is ${ev.eventId}, not ${eventId}`);
  if (ev.roomId !== roomId) throw badEvent(`event is for room ${ev.roomId}, not ${roomId}`);
  if (ev.type !== 'm.room.member' || ev.content.membership !== 'invite' || ev.stateKey === undefined) {
    throw badEvent('not an invite');
  }
  if (domainOf(ev.stateKey) !== deps.serverName) throw badEvent(`${ev.stateKey} is not a user of ${deps.serverName}`);
  if (domainOf(ev.sender) !== origin) throw forbidden(`${origin} cannot send an invite from ${ev.sender}`);
  if (!(await deps.storage.accounts.getUser(ev.stateKey))) throw notFound(`unknown user ${ev.stateKey}`);
  if (!checkContentHash(valid.value)) throw badEvent('content hash does not match');

  const keys = new Map<string, VerifyKey>();
  for (const server of requiredSignatures(ev.pdu, version)) {
    const ids = Object.keys(ev.pdu.signatures?.[server] ?? {});
    for (const k of await deps.keyRing.getVerifyKeys(server, ids)) keys.set(`${server}\u0000${k.keyId}`, k);
  }
  const sig = verifyEventSignatures(ev.pdu, version, (s, k) => keys.get(`${s}\u0000${k}`));
  if (!sig.ok) throw forbidden(`invite signature: ${sig.reason}`);

  const { unsigned: _u, ...bare } = valid.value;
  const signed = countersign(bare as Pdu, version, deps.serverName, deps.signingKey);

  const inRoom = await deps.rooms.serverInRoom(roomId);
  const existing = await deps.storage.events.getEvent(eventId);
  if (!inRoom && !existing) {
    const stripped = (body.invite_room_state ?? []).filter(isJsonObject) as JsonObject[];
    const kept: Pdu = { ...signed, unsigned: { invite_room_state: stripped } };
    const event = toRoomEvent(kept, version);
    const create = stripped.find((s) => s.type === 'm.room.create');
    const creator = typeof create?.sender === 'string' ? create.sender : ev.sender;
    await deps.storage.events.persistEvent({ event, outlier: true, outOfRoomMembership: true, newRoom: { version: version.id, creator } });
    deps.notifier.notify('events', [ev.stateKey]);
    deps.logger.info({ roomId, eventId, origin, invitee: ev.stateKey }, 'remote invite stored');
  }
  return { event: signed };
}
