/**
 * send_join / send_leave / send_knock (v2), on the resident server: the membership event a
 * remote server built from our template goes through the event pipeline like any remote event.
 * A join is answered with the room state before it and the auth chain of that state, so the
 * joining server can check and store the room without trusting us; a knock with the stripped
 * state the knocker may see.
 */
import { checkContentHash } from '../../src/core/event-hashes.js';
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import type { JsonObject } from '../../src/core/json.js';
import { domainOf, type Pdu, stateKeyOf } from '../../src/core/pdu.js';
import { forbidden, notFound } from '../../src/http/errors.js';
import { STRIPPED_STATE_TYPES, toStrippedState } from '../../src/rooms/client-event.js';
import { getRoomVersion } from '../../src/rooms/versions.js';
import { badEvent, countersign, type RoomFederationDeps } from './room-federation-deps.js';
import { authChain } from './served-reads.js';

export type SendKind = 'join' | 'leave' | 'knock';

export interface SendJoinResponse {
  origin: string;
  event: Pdu;
  state: Pdu[];
  auth_chain: Pdu[];
  members_omitted: boolean;
  servers_in_room: string[];
}

export async function sendMembership(
  deps: RoomFederationDeps,
  kind: SendKind,
  origin: string,
  roomId: string,
  eventId: string,
  raw: unknown,
): Promise<JsonObject> {
  const room = await deps.storage.events.getRoom(roomId);
  const version = room && getRoomVersion(room.version);
  if (!room || !version || !(await deps.rooms.serverInRoom(roomId))) throw notFound(`${deps.serverName} is not in room ${roomId}`);
  const valid = validatePdu(raw, version);
  if (!valid.ok) throw badEvent(valid.reason);
  let pdu = valid.value;
  const ev = toRoomEvent(pdu, version);
  if (ev.eventId !== eventId) throw badEvent(`event ID is ${ev.eventId}, not ${eventId}`);
  if (ev.roomId !== roomId) throw badEvent(`event is for room ${ev.roomId}, not ${roomId}`);
  if (ev.type !== 'm.room.member' || ev.stateKey !== ev.sender) throw badEvent('not a membership event of its sender');
  if (ev.content.membership !== kind) throw badEvent(`membership is ${String(ev.content.membership)}, not ${kind}`);
  if (domainOf(ev.sender) !== origin) throw forbidden(`${origin} cannot send a ${kind} for ${ev.sender}`);
  if (!checkContentHash(pdu)) throw badEvent('content hash does not match');

  const via = ev.content.join_authorised_via_users_server;
  if (kind === 'join' && typeof via === 'string' && domainOf(via) === deps.serverName && version.restrictedJoinRule) {
    pdu = countersign(pdu, version, deps.serverName, deps.signingKey);
  }

  const outcome = await deps.rooms.pipeline.accept(pdu, version, { origin: 'remote' });
  switch (outcome.status) {
    case 'invalid':
      throw forbidden(`${kind} refused: ${outcome.reason}`);
    case 'rejected':
      throw forbidden(`${kind} refused: ${outcome.reason}`);
    case 'soft_failed':
      throw forbidden(`${kind} refused: not allowed by the room's current state`);
    default:
      break;
  }
  deps.logger.info({ roomId, eventId, origin, membership: kind }, 'remote membership accepted');
  if (kind === 'leave') return {};
  if (kind === 'knock') return { knock_room_state: (await strippedCurrentState(deps, roomId)) as unknown as JsonObject[] };
  return (await joinResponse(deps, roomId, eventId, outcome.event.pdu)) as unknown as JsonObject;
}

async function joinResponse(deps: RoomFederationDeps, roomId: string, eventId: string, event: Pdu): Promise<SendJoinResponse> {
  const store = deps.storage.events;
  const before = (await store.getStateBefore(eventId)) ?? new Map<string, string>();
  const stateIds = [...before.values()];
  const [state, chain] = await Promise.all([store.getEvents(stateIds), authChain(deps, roomId, [...stateIds, eventId])]);
  const servers = await store.getJoinedServers(roomId);
  return {
    origin: deps.serverName,
    event,
    state: [...state.values()].map((s) => s.event.pdu),
    auth_chain: chain.map((s) => s.event.pdu),
    members_omitted: false,
    servers_in_room: servers,
  };
}

/** The stripped state a knocker or invitee is shown (client-server spec, "Stripped state"). */
export async function strippedCurrentState(deps: RoomFederationDeps, roomId: string): Promise<JsonObject[]> {
  const state = await deps.storage.events.getCurrentState(roomId);
  const ids = STRIPPED_STATE_TYPES.map((t) => state.get(stateKeyOf(t, ''))).filter((x): x is string => x !== undefined);
  const events = await deps.storage.events.getEvents(ids);
  return ids.flatMap((id) => {
    const e = events.get(id);
    return e ? [toStrippedState(e.event) as unknown as JsonObject] : [];
  });
}

