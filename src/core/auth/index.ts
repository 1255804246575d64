/**
 * The Matrix authorisation rules for room versions 1–12. `checkEventAuth` evaluates the rules
 * that depend on room state (everything except the auth events list checks, which live in
 * `checkAuthEventsList`) against either the event's auth events or the state before it.
 *
 * Rule numbers in reasons and comments follow the v12 text; earlier versions number the same
 * rules one lower from the aliases rule on (v6–v11), or have the aliases rule as 4 (v1–v5).
 */
import type { RoomVersion } from '../../rooms/versions.js';
import { domainOf, type RoomEvent } from '../pdu.js';
import { checkAliasesEvent } from './aliases.js';
import { checkCreateEvent } from './create.js';
import { checkMemberEvent } from './member.js';
import { namedPowerLevel, own, requiredPowerForEvent, userPowerLevel } from './power-levels.js';
import { checkPowerLevelsEvent } from './power-levels-event.js';
import { checkRedactionEvent } from './redaction.js';
import {
  ALIASES,
  ALLOW,
  type AuthResult,
  type AuthStateLookup,
  CREATE,
  deny,
  MEMBER,
  membershipOf,
  POWER_LEVELS,
  REDACTION,
  THIRD_PARTY_INVITE,
} from './types.js';

export { authEventKeysFor, checkAuthEventsList } from './auth-events.js';
export {
  type NamedPowerLevel,
  namedPowerLevel,
  notificationPowerLevel,
  parsePowerLevel,
  requiredPowerForEvent,
  roomCreators,
  userPowerLevel,
} from './power-levels.js';
export type { AuthResult, AuthStateLookup } from './types.js';
export { isValidServerName, isValidUserId } from './user-id.js';

export function checkEventAuth(version: RoomVersion, event: RoomEvent, state: AuthStateLookup): AuthResult {
  try {
    return checkRules(version, event, state);
  } catch (err) {
    // The rules are written not to throw on malformed input; should one slip through, fail closed.
    return deny(`auth: event could not be checked (${err instanceof Error ? err.message : String(err)})`);
  }
}

function checkRules(version: RoomVersion, event: RoomEvent, state: AuthStateLookup): AuthResult {
  if (event.type === CREATE) return checkCreateEvent(version, event);

  const create = state(CREATE, '');
  if (!create) return deny('auth: no m.room.create event in the room state');
  if (version.roomIdFromCreateEvent) {
    if (event.roomId !== `!${create.eventId.slice(1)}`) {
      return deny(`room id: ${event.roomId} is not the ID of the room's create event ${create.eventId}`);
    }
  } else if (create.roomId !== event.roomId) {
    return deny(`auth: the create event in the state belongs to ${create.roomId}, not ${event.roomId}`);
  }

  if (own(create.content, 'm.federate') === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return deny(`federate: the room is not federated and ${event.sender} is not on the creator's server`);
  }

  if (version.specialCaseAliasesAuth && event.type === ALIASES) return checkAliasesEvent(event);
  if (event.type === MEMBER) return checkMemberEvent(version, event, state, create);

  if (membershipOf(state, event.sender) !== 'join') return deny(`auth: sender ${event.sender} is not joined to the room`);

  const level = userPowerLevel(version, event.sender, state);
  if (event.type === THIRD_PARTY_INVITE) {
    const inviteLevel = namedPowerLevel(version, 'invite', state);
    if (level >= inviteLevel) return ALLOW;
    return deny(`third_party_invite: sender's level ${level} is below the invite level ${inviteLevel}`);
  }

  const required = requiredPowerForEvent(version, event.type, event.stateKey !== undefined, state);
  if (required > level) {
    return deny(`power: sending ${event.type} requires level ${required}, sender has ${level}`);
  }

  if (event.stateKey?.startsWith('@') && event.stateKey !== event.sender) {
    return deny(`state_key: ${event.stateKey} starts with @ and is not the sender`);
  }

  if (event.type === POWER_LEVELS) return checkPowerLevelsEvent(version, event, state);
  if (version.redactionAuthByEventIdDomain && event.type === REDACTION) return checkRedactionEvent(version, event, state);
  return ALLOW;
}
