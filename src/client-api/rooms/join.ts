import { defineRoute } from '../../http/route.js';
import { reasonBody, viaQuery, viaServers } from './common.js';

export const joinRoomById = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/join',
  auth: 'required',
  body: reasonBody,
  handler: async ({ app, requester, params, body }) => {
    const roomId = await app.rooms.join(requester.userId, params.roomId, body.reason);
    return { body: { room_id: roomId } };
  },
});

export const joinRoomByIdOrAlias = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/join/{roomIdOrAlias}',
  auth: 'required',
  body: reasonBody,
  query: viaQuery,
  handler: async ({ app, requester, params, body, query }) => {
    const roomId = await app.rooms.join(requester.userId, params.roomIdOrAlias, body.reason, viaServers(query));
    return { body: { room_id: roomId } };
  },
});
