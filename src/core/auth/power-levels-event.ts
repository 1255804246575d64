/** Auth rule for `m.room.power_levels` events (rule 10 in v1–v5, 9 in v6–v11, 10 in v12). */
import type { RoomVersion } from '../../rooms/versions.js';
import { isJsonObject, type JsonObject } from '../json.js';
import type { RoomEvent } from '../pdu.js';
import { own, parsePowerLevel, roomCreators, userPowerLevel } from './power-levels.js';
import { ALLOW, type AuthResult, type AuthStateLookup, deny, POWER_LEVELS, show } from './types.js';
import { isValidUserId } from './user-id.js';

const LEVEL_KEYS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'] as const;

/** The maps of event type / notification key → level whose changes the sender must be able to make. */
function guardedMaps(version: RoomVersion): string[] {
  return version.limitNotificationsPowerLevels ? ['events', 'notifications'] : ['events'];
}

/**
 * Shape checks on the new content. The spec only demands valid `users` before v10, but a value
 * that is not a power level in the version's own encoding (e.g. `"ban": "lots"`) cannot be
 * compared with the sender's level either, so such events are rejected in every version.
 */
function checkShape(version: RoomVersion, content: JsonObject): AuthResult {
  for (const key of LEVEL_KEYS) {
    if (Object.hasOwn(content, key) && parsePowerLevel(version, content[key]) === undefined) {
      return deny(`power_levels: ${key} ${show(content[key])} is not a valid power level`);
    }
  }
  for (const key of guardedMaps(version)) {
    if (!Object.hasOwn(content, key)) continue;
    const map = content[key];
    if (!isJsonObject(map)) return deny(`power_levels: ${key} is not an object`);
    for (const [k, v] of Object.entries(map)) {
      if (parsePowerLevel(version, v) === undefined) {
        return deny(`power_levels: ${key}[${show(k)}] ${show(v)} is not a valid power level`);
      }
    }
  }
  if (Object.hasOwn(content, 'users')) {
    const users = content.users;
    if (!isJsonObject(users)) return deny('power_levels: users is not an object');
    for (const [user, v] of Object.entries(users)) {
      if (!isValidUserId(user)) return deny(`power_levels: users key ${show(user)} is not a valid user ID`);
      if (parsePowerLevel(version, v) === undefined) {
        return deny(`power_levels: users[${show(user)}] ${show(v)} is not a valid power level`);
      }
    }
  }
  return ALLOW;
}

function mapOf(content: JsonObject, key: string): JsonObject {
  const v = own(content, key);
  return isJsonObject(v) ? v : {};
}

/** Parsed old and new values of every entry that was added, changed or removed. */
function* alterations(
  version: RoomVersion,
  before: JsonObject,
  after: JsonObject,
  keys?: readonly string[],
): Generator<[key: string, old: number | undefined, next: number | undefined]> {
  const all = keys ?? [...new Set([...Object.keys(before), ...Object.keys(after)])];
  for (const key of all) {
    const old = parsePowerLevel(version, own(before, key));
    const next = parsePowerLevel(version, own(after, key));
    if (old !== next) yield [key, old, next];
  }
}

export function checkPowerLevelsEvent(version: RoomVersion, event: RoomEvent, state: AuthStateLookup): AuthResult {
  const content = event.content;
  const shape = checkShape(version, content);
  if (!shape.allowed) return shape;

  if (version.privilegedCreators) {
    const users = mapOf(content, 'users');
    for (const creator of roomCreators(version, state)) {
      if (Object.hasOwn(users, creator)) {
        return deny(`power_levels: room creator ${creator} must not be listed in users`);
      }
    }
  }

  const previous = state(POWER_LEVELS, '');
  if (!previous) return ALLOW;
  const before = previous.content;
  const mine = userPowerLevel(version, event.sender, state);

  for (const [key, old, next] of alterations(version, before, content, LEVEL_KEYS)) {
    if (old !== undefined && old > mine) {
      return deny(`power_levels: cannot change ${key} from ${old}, above the sender's level ${mine}`);
    }
    if (next !== undefined && next > mine) {
      return deny(`power_levels: cannot set ${key} to ${next}, above the sender's level ${mine}`);
    }
  }

  for (const mapKey of guardedMaps(version)) {
    for (const [key, old, next] of alterations(version, mapOf(before, mapKey), mapOf(content, mapKey))) {
      if (old !== undefined && old > mine) {
        return deny(`power_levels: cannot change ${mapKey}[${show(key)}] from ${old}, above the sender's level ${mine}`);
      }
      if (next !== undefined && next > mine) {
        return deny(`power_levels: cannot set ${mapKey}[${show(key)}] to ${next}, above the sender's level ${mine}`);
      }
    }
  }

  for (const [user, old, next] of alterations(version, mapOf(before, 'users'), mapOf(content, 'users'))) {
    // Lowering (or removing) one's own level is always allowed; others' only below the sender.
    if (old !== undefined && user !== event.sender && old >= mine) {
      return deny(`power_levels: cannot change the level of ${user} (${old}), not below the sender's level ${mine}`);
    }
    if (next !== undefined && next > mine) {
      return deny(`power_levels: cannot give ${user} level ${next}, above the sender's level ${mine}`);
    }
  }
  return ALLOW;
}
