/**
 * The auth events selection algorithm (server-server API) and auth rule 2 (3 in v12), which
 * checks an event's cited `auth_events` against it.
 */
import type { RoomVersion } from '../../rooms/versions.js';
import { isJsonObject, type JsonObject } from '../json.js';
import { type RoomEvent, stateKeyOf } from '../pdu.js';
import { own } from './power-levels.js';
import {
  ALLOW,
  AUTHORISING_USER,
  type AuthResult,
  CREATE,
  deny,
  JOIN_RULES,
  MEMBER,
  POWER_LEVELS,
  THIRD_PARTY_INVITE,
} from './types.js';

/** Which state entries an event must cite as its `auth_events` (where they exist in the room). */
export function authEventKeysFor(
  version: RoomVersion,
  e: { type: string; stateKey?: string; sender: string; content: JsonObject },
): Array<[type: string, stateKey: string]> {
  if (e.type === CREATE) return [];
  const keys: Array<[string, string]> = [];
  const seen = new Set<string>();
  const add = (type: string, stateKey: string): void => {
    const k = stateKeyOf(type, stateKey);
    if (seen.has(k)) return;
    seen.add(k);
    keys.push([type, stateKey]);
  };
  // From v12 the room ID itself names the create event, so it is never cited.
  if (!version.roomIdFromCreateEvent) add(CREATE, '');
  add(POWER_LEVELS, '');
  add(MEMBER, e.sender);
  if (e.type === MEMBER) {
    const membership = own(e.content, 'membership');
    if (e.stateKey !== undefined) add(MEMBER, e.stateKey);
    if (membership === 'join' || membership === 'invite' || membership === 'knock') add(JOIN_RULES, '');
    if (membership === 'invite') {
      const tpi = own(e.content, 'third_party_invite');
      const signed = isJsonObject(tpi) ? own(tpi, 'signed') : undefined;
      const token = isJsonObject(signed) ? own(signed, 'token') : undefined;
      if (typeof token === 'string') add(THIRD_PARTY_INVITE, token);
    }
    if (membership === 'join' && version.restrictedJoinRule) {
      const authoriser = own(e.content, AUTHORISING_USER);
      if (typeof authoriser === 'string') add(MEMBER, authoriser);
    }
  }
  return keys;
}

function describe(ev: RoomEvent): string {
  return `${ev.eventId} (${ev.type}, ${JSON.stringify(ev.stateKey ?? null)})`;
}

/**
 * Auth rule 2 (v1–v11) / 3 (v12): the event's `auth_events`, given as the events it cites
 * (in any order, each at least once), must be distinct, expected, accepted, from this room,
 * and (before v12) include the create event. From v12, also rule 2: the room ID must name an
 * accepted create event. Create events are not subject to this rule.
 */
export function checkAuthEventsList(
  version: RoomVersion,
  event: RoomEvent,
  authEvents: readonly RoomEvent[],
  isRejected?: (eventId: string) => boolean,
): AuthResult {
  if (event.type === CREATE) return ALLOW;

  if (version.roomIdFromCreateEvent) {
    if (!event.roomId.startsWith('!')) return deny(`room id: ${event.roomId} is not a room ID`);
    const createId = `$${event.roomId.slice(1)}`;
    if (isRejected?.(createId)) return deny(`room id: the create event ${createId} was rejected`);
  }

  const byId = new Map(authEvents.map((e) => [e.eventId, e]));
  const cited: RoomEvent[] = [];
  for (const id of event.authEventIds) {
    const ev = byId.get(id);
    if (!ev) return deny(`auth events: auth event ${id} is not available`);
    cited.push(ev);
  }

  const seen = new Map<string, RoomEvent>();
  for (const ev of cited) {
    if (ev.stateKey === undefined) return deny(`auth events: ${ev.eventId} is not a state event`);
    const k = stateKeyOf(ev.type, ev.stateKey);
    const other = seen.get(k);
    if (other) return deny(`auth events: duplicate entries ${describe(other)} and ${describe(ev)}`);
    seen.set(k, ev);
  }

  const expected = new Set(authEventKeysFor(version, event).map(([t, s]) => stateKeyOf(t, s)));
  for (const ev of cited) {
    if (!expected.has(stateKeyOf(ev.type, ev.stateKey ?? ''))) {
      if (ev.type === CREATE && version.roomIdFromCreateEvent) {
        return deny(`auth events: the create event must not be cited in room version ${version.id}`);
      }
      return deny(`auth events: unexpected entry ${describe(ev)}`);
    }
  }

  for (const ev of cited) {
    if (isRejected?.(ev.eventId)) return deny(`auth events: entry ${describe(ev)} was rejected`);
  }

  if (!version.roomIdFromCreateEvent && !seen.has(stateKeyOf(CREATE, ''))) {
    return deny('auth events: no m.room.create event among the entries');
  }

  for (const ev of cited) {
    if (ev.roomId !== event.roomId) {
      return deny(`auth events: entry ${describe(ev)} belongs to room ${ev.roomId}, not ${event.roomId}`);
    }
  }
  return ALLOW;
}
