import { defineRoute } from '../../http/route.js';
import { targetBody } from './common.js';

export const kickUser = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/kick',
  auth: 'required',
  body: targetBody,
  handler: async ({ app, requester, params, body }) => {
    await app.rooms.membership('kick', requester.userId, params.roomId, body.user_id, body.reason);
    return { body: {} };
  },
});
