import { defineRoute } from '../../http/route.js';
import { reasonBody, viaQuery, viaServers } from './common.js';

export const knockRoom = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/knock/{roomIdOrAlias}',
  auth: 'required',
  body: reasonBody,
  query: viaQuery,
  handler: async ({ app, requester, params, body, query }) => {
    const roomId = await app.rooms.knock(requester.userId, params.roomIdOrAlias, body.reason, viaServers(query));
    return { body: { room_id: roomId } };
  },
});
