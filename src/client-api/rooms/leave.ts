import { defineRoute } from '../../http/route.js';
import { reasonBody } from './common.js';

export const leaveRoom = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/leave',
  auth: 'required',
  body: reasonBody,
  handler: async ({ app, requester, params, body }) => {
    await app.rooms.membership('leave', requester.userId, params.roomId, requester.userId, body.reason);
    return { body: {} };
  },
});
