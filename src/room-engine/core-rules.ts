/**
 * TEMPORARY stand-in for the auth rules and state resolution (branches `auth` and `stateres`),
 * so the pipeline can be written and exercised before they land. It allows every event and
 * resolves state by taking the union (later sets win). Replaced by re-exports on merge.
 */
import type { JsonObject } from '../core/json.js';
import type { RoomEvent, StateMap } from '../core/pdu.js';
import type { RoomVersion } from '../rooms/versions.js';

export type AuthResult = { allowed: true } | { allowed: false; reason: string };
export type AuthStateLookup = (type: string, stateKey: string) => RoomEvent | undefined;
export type EventLookup = (eventId: string) => RoomEvent | undefined;

export function checkEventAuth(_version: RoomVersion, _event: RoomEvent, _state: AuthStateLookup): AuthResult {
  return { allowed: true };
}

export function checkAuthEventsList(
  _version: RoomVersion,
  _event: RoomEvent,
  _authEvents: readonly RoomEvent[],
  _isRejected?: (eventId: string) => boolean,
): AuthResult {
  return { allowed: true };
}

export function authEventKeysFor(
  _version: RoomVersion,
  e: { type: string; stateKey?: string; sender: string; content: JsonObject },
): Array<[string, string]> {
  if (e.type === 'm.room.create') return [];
  const keys: Array<[string, string]> = [
    ['m.room.create', ''],
    ['m.room.power_levels', ''],
    ['m.room.member', e.sender],
  ];
  if (e.type === 'm.room.member' && e.stateKey !== undefined) {
    if (e.stateKey !== e.sender) keys.push(['m.room.member', e.stateKey]);
    keys.push(['m.room.join_rules', '']);
  }
  return keys;
}

export function resolveState(
  _version: RoomVersion,
  stateSets: readonly StateMap[],
  _lookup: EventLookup,
  _opts?: { isRejected?: (eventId: string) => boolean },
): StateMap {
  const out = new Map<string, string>();
  for (const s of stateSets) for (const [k, v] of s) out.set(k, v);
  return out;
}

export function userPowerLevel(_version: RoomVersion, _userId: string, _state: AuthStateLookup): number {
  return 100;
}

export function namedPowerLevel(_version: RoomVersion, _name: 'invite' | 'kick' | 'ban' | 'redact', _state: AuthStateLookup): number {
  return 50;
}
