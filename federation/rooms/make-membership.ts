/**
 * make_join / make_leave / make_knock, on the resident server: an unsigned membership event
 * template on top of the room's forward extremities, for the requesting server to fill in,
 * sign and send back. A template is refused here when the auth rules would refuse the event,
 * so the remote user gets the reason now rather than after send_*. For restricted rooms the
 * join template names a local user who may invite (`join_authorised_via_users_server`); this
 * server signs the join when it comes back.
 */
import type { JsonObject } from '../../src/core/json.js';
import { domainOf, type Pdu, type RoomEvent, stateKeyOf } from '../../src/core/pdu.js';
import { toRoomEvent } from '../../src/core/event-format.js';
import { forbidden, MatrixError, notFound } from '../../src/http/errors.js';
import {
  type AuthStateLookup,
  authEventKeysFor,
  checkEventAuth,
  namedPowerLevel,
  userPowerLevel,
} from '../../src/room-engine/core-rules.js';
import { getRoomVersion, type RoomVersion } from '../../src/rooms/versions.js';
import { incompatibleVersion, type RoomFederationDeps } from './room-federation-deps.js';

export type TemplateKind = 'join' | 'leave' | 'knock';

export interface MembershipTemplate {
  room_version: string;
  event: JsonObject;
}

/**
 * `supportedVersions` is the requester's `ver` list (join and knock only; the spec's default
 * for an absent list is `["1"]`).
 */
export async function makeMembership(
  deps: RoomFederationDeps,
  kind: TemplateKind,
  origin: string,
  roomId: string,
  userId: string,
  supportedVersions: readonly string[] | undefined,
): Promise<MembershipTemplate> {
  if (domainOf(userId) !== origin) throw forbidden(`${origin} cannot make a ${kind} for ${userId}`);
  const room = await deps.storage.events.getRoom(roomId);
  const version = room && getRoomVersion(room.version);
  if (!room || !version || !(await deps.rooms.serverInRoom(roomId))) throw notFound(`${deps.serverName} is not in room ${roomId}`);
  if (kind !== 'leave' && !(supportedVersions ?? ['1']).includes(version.id)) throw incompatibleVersion(version.id);
  if (kind === 'knock' && !version.knocking) throw incompatibleVersion(version.id);

  const content: JsonObject = { membership: kind };
  let state = await currentLookup(deps, roomId, version, [userId]);
  if (kind === 'join') {
    const via = await restrictedJoinAuthoriser(deps, version, roomId, userId, state);
    if (via !== undefined) {
      content.join_authorised_via_users_server = via;
      state = await currentLookup(deps, roomId, version, [userId, via]);
    }
  }

  const built = await deps.rooms.creator.build(roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content });
  if (!built.ok) throw new MatrixError(built.errcode === 'M_NOT_FOUND' ? 404 : 500, built.errcode, built.error);
  // The auth rules against the current state (the template's prev events are its extremities).
  const auth = checkEventAuth(version, toRoomEvent(built.pdu, version), state);
  if (!auth.allowed) throw forbidden(`${userId} cannot ${kind}: ${auth.reason}`);
  return { room_version: version.id, event: toTemplate(built.pdu) };
}

/** Drops what the requesting server must make itself: hashes, signatures and (v1/v2) the event ID. */
function toTemplate(pdu: Pdu): JsonObject {
  const { hashes: _h, signatures: _s, event_id: _e, unsigned: _u, ...rest } = pdu;
  return { ...rest, origin: domainOf(pdu.sender) } as JsonObject;
}

/**
 * For a join to a restricted room by a user who is neither joined nor invited: a local user
 * with the power to invite, if the user satisfies the allow list through a room this server
 * is in. Undefined when the room is not restricted for this user.
 */
async function restrictedJoinAuthoriser(
  deps: RoomFederationDeps,
  version: RoomVersion,
  roomId: string,
  userId: string,
  state: AuthStateLookup,
): Promise<string | undefined> {
  const rule = state('m.room.join_rules', '')?.content.join_rule;
  const restricted = (rule === 'restricted' && version.restrictedJoinRule) || (rule === 'knock_restricted' && version.knockRestrictedJoinRule);
  if (!restricted) return undefined;
  const membership = state('m.room.member', userId)?.content.membership;
  if (membership === 'join' || membership === 'invite') return undefined;

  const allow = state('m.room.join_rules', '')?.content.allow;
  let satisfied = false;
  if (Array.isArray(allow)) {
    for (const entry of allow) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
      if (entry.type !== 'm.room_membership' || typeof entry.room_id !== 'string') continue;
      const m = await deps.storage.events.getMembership(entry.room_id, userId);
      if (m?.membership === 'join') {
        satisfied = true;
        break;
      }
    }
  }
  if (!satisfied) throw forbidden(`${userId} does not meet the room's restricted join conditions`);

  const inviteLevel = namedPowerLevel(version, 'invite', state);
  const locals = (await deps.storage.events.getRoomMembers(roomId, ['join'])).filter((m) => domainOf(m.userId) === deps.serverName);
  const memberEvents = await deps.storage.events.getEvents(locals.map((m) => m.eventId));
  const withMembers: AuthStateLookup = (type, stateKey) => {
    if (type === 'm.room.member') {
      const rec = locals.find((m) => m.userId === stateKey);
      if (rec) return memberEvents.get(rec.eventId)?.event;
    }
    return state(type, stateKey);
  };
  // The most powerful local member is the likeliest to stay able to invite.
  let best: { userId: string; level: number } | undefined;
  for (const m of locals) {
    const level = userPowerLevel(version, m.userId, withMembers);
    if (level >= inviteLevel && (!best || level > best.level)) best = { userId: m.userId, level };
  }
  if (!best) throw new MatrixError(400, 'M_UNABLE_TO_AUTHORISE_JOIN', `no user on ${deps.serverName} may authorise joins to ${roomId}`);
  return best.userId;
}

/** The current state entries the auth rules consult for a member event of `users[0]` (and the members of the others). */
async function currentLookup(deps: RoomFederationDeps, roomId: string, version: RoomVersion, users: string[]): Promise<AuthStateLookup> {
  const keys: Array<[string, string]> = [
    ['m.room.create', ''],
    ['m.room.power_levels', ''],
    ['m.room.join_rules', ''],
  ];
  for (const u of users) keys.push(['m.room.member', u]);
  const [userId] = users;
  for (const k of authEventKeysFor(version, { type: 'm.room.member', stateKey: userId, sender: userId, content: { membership: 'join' } })) {
    keys.push(k);
  }
  const found = new Map<string, RoomEvent>();
  for (const [type, stateKey] of keys) {
    const e = await deps.storage.events.getCurrentStateEvent(roomId, type, stateKey);
    if (e) found.set(stateKeyOf(type, stateKey), e.event);
  }
  return (type, stateKey) => found.get(stateKeyOf(type, stateKey));
}
