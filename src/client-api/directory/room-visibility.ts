/** Whether a room is listed in this server's published room directory. */
import { z } from 'zod';
import { forbidden } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { requiredPowerForEvent, userPowerLevel } from '../../room-engine/core-rules.js';

export const getRoomVisibility = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/directory/list/room/{roomId}',
  auth: 'none',
  handler: async ({ app, params }) => {
    await app.rooms.requireRoom(params.roomId);
    const room = await app.storage.events.getRoom(params.roomId);
    return { body: { visibility: room?.isPublic ? 'public' : 'private' } };
  },
});

export const putRoomVisibility = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/directory/list/room/{roomId}',
  auth: 'required',
  body: z.object({ visibility: z.enum(['public', 'private']).optional() }).loose(),
  handler: async ({ app, requester, params, body }) => {
    const version = await app.rooms.requireRoom(params.roomId);
    const state = await app.rooms.currentLookup(params.roomId);
    const me = state('m.room.member', requester.userId);
    const isAdmin = (await app.storage.accounts.getUser(requester.userId))?.isAdmin === true;
    // Publishing a room is about as weighty as naming it: the canonical alias level.
    const allowed =
      me?.content.membership === 'join' &&
      userPowerLevel(version, requester.userId, state) >= requiredPowerForEvent(version, 'm.room.canonical_alias', true, state);
    if (!allowed && !isAdmin) throw forbidden('You may not change the directory visibility of this room');
    await app.storage.roomDirectory.setRoomPublic(params.roomId, (body.visibility ?? 'public') === 'public');
    return { body: {} };
  },
});
