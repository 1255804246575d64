import { defineRoute } from '../../http/route.js';

export const getJoinedRooms = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/joined_rooms',
  auth: 'required',
  handler: async ({ app, requester }) => {
    const rooms = await app.storage.events.getRoomsForUser(requester.userId, ['join']);
    return { body: { joined_rooms: rooms.map((r) => r.roomId) } };
  },
});
