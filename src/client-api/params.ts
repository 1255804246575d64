/** Path-parameter checks shared by endpoints. */
import { isUserId } from '../accounts/user-ids.js';
import { forbidden, invalidParam } from '../http/errors.js';
import type { Requester } from '../http/route.js';

/** Room IDs: `!opaque` (v12) or `!opaque:server` (earlier versions). */
export function checkRoomId(roomId: string): string {
  if (!roomId.startsWith('!') || roomId.length < 2 || Buffer.byteLength(roomId) > 255) {
    throw invalidParam(`${roomId} is not a valid room ID`);
  }
  return roomId;
}

/** Event IDs: `$` and an opaque rest (a hash from room version 3 on, `$id:server` before). */
export function checkEventId(eventId: string): string {
  if (!eventId.startsWith('$') || eventId.length < 2 || Buffer.byteLength(eventId) > 255) {
    throw invalidParam(`${eventId} is not a valid event ID`);
  }
  return eventId;
}

export function checkUserId(userId: string): string {
  if (!isUserId(userId)) throw invalidParam(`${userId} is not a valid user ID`);
  return userId;
}

/** For /user/{userId}/… endpoints: a user may only act on their own data. */
export function requireSelf(requester: Requester, userId: string, what: string): void {
  if (requester.userId !== userId) throw forbidden(`Cannot access ${what} of other users`);
}
