/**
 * Reading power levels out of room state. Used by the auth rules and by the client API, so every
 * function takes the room version: it decides whether string or float values still count and
 * whether the room creators stand above the power levels event (v12).
 */
import type { RoomVersion } from '../../rooms/versions.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { type AuthStateLookup, CREATE, POWER_LEVELS } from './types.js';

/** An own property of a JSON object, never one inherited from Object.prototype. */
export function own(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

const STRINGY_INTEGER = /^[+-]?[0-9]+$/;

/**
 * A power level value as the room version reads it, or undefined when the value is not one.
 * Before v10, integers may be encoded as strings (" +050 " is 50) and, before v6 where JSON
 * was not strict, floats are truncated towards zero. From v10 only JSON integers count.
 */
export function parsePowerLevel(version: RoomVersion, value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (version.integerPowerLevels) return Number.isSafeInteger(value) ? value : undefined;
    return Number.isFinite(value) ? Math.trunc(value) : undefined;
  }
  if (typeof value === 'string' && !version.integerPowerLevels) {
    const trimmed = value.trim();
    if (!STRINGY_INTEGER.test(trimmed)) return undefined;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function levelOr(version: RoomVersion, obj: JsonValue | undefined, key: string, fallback: number): number {
  if (!isJsonObject(obj)) return fallback;
  return parsePowerLevel(version, own(obj, key)) ?? fallback;
}

function powerLevelsContent(state: AuthStateLookup): JsonObject | undefined {
  return state(POWER_LEVELS, '')?.content;
}

/**
 * The room creators: `content.creator` of the create event before v11, its `sender` from v11,
 * plus `content.additional_creators` in v12.
 */
export function roomCreators(version: RoomVersion, state: AuthStateLookup): Set<string> {
  const creators = new Set<string>();
  const create = state(CREATE, '');
  if (!create) return creators;
  if (!version.creatorIsSender) {
    const creator = own(create.content, 'creator');
    if (typeof creator === 'string') creators.add(creator);
    return creators;
  }
  creators.add(create.sender);
  if (version.privilegedCreators) {
    const extra = own(create.content, 'additional_creators');
    if (Array.isArray(extra)) for (const id of extra) if (typeof id === 'string') creators.add(id);
  }
  return creators;
}

/**
 * A user's power level. v12 creators are infinitely powerful whatever the power levels say;
 * before v12, a room without a power levels event gives its creator 100 and everyone else 0.
 */
export function userPowerLevel(version: RoomVersion, userId: string, state: AuthStateLookup): number {
  const isCreator = roomCreators(version, state).has(userId);
  if (version.privilegedCreators && isCreator) return Number.POSITIVE_INFINITY;
  const content = powerLevelsContent(state);
  if (!content) return isCreator ? 100 : 0;
  const users = own(content, 'users');
  if (isJsonObject(users)) {
    const level = parsePowerLevel(version, own(users, userId));
    if (level !== undefined) return level;
  }
  return levelOr(version, content, 'users_default', 0);
}

/** The *required power level* for sending an event of this type (not used for membership). */
export function requiredPowerForEvent(
  version: RoomVersion,
  type: string,
  isState: boolean,
  state: AuthStateLookup,
): number {
  const content = powerLevelsContent(state);
  if (content) {
    const events = own(content, 'events');
    if (isJsonObject(events)) {
      const level = parsePowerLevel(version, own(events, type));
      if (level !== undefined) return level;
    }
  }
  return isState ? levelOr(version, content, 'state_default', 50) : levelOr(version, content, 'events_default', 0);
}

export type NamedPowerLevel = 'invite' | 'kick' | 'ban' | 'redact';

const NAMED_DEFAULTS: Readonly<Record<NamedPowerLevel, number>> = { invite: 0, kick: 50, ban: 50, redact: 50 };

/** The invite, kick, ban or redact level, with the spec defaults (0, 50, 50, 50). */
export function namedPowerLevel(version: RoomVersion, name: NamedPowerLevel, state: AuthStateLookup): number {
  return levelOr(version, powerLevelsContent(state), name, NAMED_DEFAULTS[name]);
}

/** The level needed for a notification key such as `room` (@room); 50 unless the room says otherwise. */
export function notificationPowerLevel(version: RoomVersion, key: string, state: AuthStateLookup): number {
  const content = powerLevelsContent(state);
  return levelOr(version, content ? own(content, 'notifications') : undefined, key, 50);
}
