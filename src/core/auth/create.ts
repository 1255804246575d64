/** Auth rule 1: `m.room.create` events, which are checked without any room state. */
import { getRoomVersion, type RoomVersion } from '../../rooms/versions.js';
import { domainOf, type RoomEvent } from '../pdu.js';
import { own } from './power-levels.js';
import { ALLOW, type AuthResult, deny, show } from './types.js';
import { isValidUserId } from './user-id.js';

export function checkCreateEvent(version: RoomVersion, event: RoomEvent): AuthResult {
  if (event.prevEventIds.length > 0) return deny('create: the create event must not have prev_events');

  if (version.roomIdFromCreateEvent) {
    // The room ID is derived from this event's hash, so the event itself must not carry one.
    if (event.pdu.room_id !== undefined) return deny('create: the create event must not have a room_id');
  } else if (domainOf(event.roomId) !== domainOf(event.sender)) {
    return deny(`create: room_id domain of ${event.roomId} does not match the sender ${event.sender}`);
  }

  const content = event.content;
  if (Object.hasOwn(content, 'room_version')) {
    const rv = content.room_version;
    if (typeof rv !== 'string' || getRoomVersion(rv) === undefined) {
      return deny(`create: room_version ${show(rv)} is not a recognised room version`);
    }
  }

  if (!version.creatorIsSender && !Object.hasOwn(content, 'creator')) {
    return deny('create: content has no creator property');
  }

  if (version.privilegedCreators) {
    const extra = own(content, 'additional_creators');
    if (extra !== undefined) {
      if (!Array.isArray(extra)) return deny('create: additional_creators is not an array');
      for (const id of extra) {
        if (!isValidUserId(id)) return deny(`create: additional_creators entry ${show(id)} is not a valid user ID`);
      }
    }
  }
  return ALLOW;
}
