/**
 * Auth rule 11 of room versions 1 and 2: a redaction needs the redact level unless it comes from
 * the same server as the event it redacts. Later versions leave this to redaction handling.
 */
import type { RoomVersion } from '../../rooms/versions.js';
import { domainOf, type RoomEvent } from '../pdu.js';
import { namedPowerLevel, userPowerLevel } from './power-levels.js';
import { ALLOW, type AuthResult, type AuthStateLookup, deny } from './types.js';

export function checkRedactionEvent(version: RoomVersion, event: RoomEvent, state: AuthStateLookup): AuthResult {
  const level = userPowerLevel(version, event.sender, state);
  const redactLevel = namedPowerLevel(version, 'redact', state);
  if (level >= redactLevel) return ALLOW;
  const ownDomain = domainOf(event.eventId);
  if (typeof event.redacts === 'string' && ownDomain !== '' && domainOf(event.redacts) === ownDomain) return ALLOW;
  return deny(
    `redaction: sender's level ${level} is below the redact level ${redactLevel} and the redacted event is from another server`,
  );
}
