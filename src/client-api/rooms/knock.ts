import { z } from 'zod';
import { defineRoute } from '../../http/route.js';
import { reasonBody, serverList, serversOf } from './common.js';

export const knockRoom = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/knock/{roomIdOrAlias}',
  auth: 'required',
  body: reasonBody,
  query: z.object({ via: serverList, server_name: serverList }).loose(),
  handler: async ({ app, requester, params, body, query }) => {
    const via = serversOf(query.via, query.server_name);
    const roomId = await app.rooms.knock(requester.userId, params.roomIdOrAlias, body.reason, via);
    return { body: { room_id: roomId } };
  },
});
