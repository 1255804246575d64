import { defineRoute } from '../../http/route.js';
import { targetBody } from './common.js';

export const banUser = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/ban',
  auth: 'required',
  body: targetBody,
  handler: async ({ app, requester, params, body }) => {
    await app.rooms.membership('ban', requester.userId, params.roomId, body.user_id, body.reason);
    return { body: {} };
  },
});
