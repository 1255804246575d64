import { defineRoute } from '../../http/route.js';
import { targetBody } from './common.js';

export const inviteUser = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/invite',
  auth: 'required',
  body: targetBody,
  handler: async ({ app, requester, params, body }) => {
    await app.rooms.membership('invite', requester.userId, params.roomId, body.user_id, body.reason);
    return { body: {} };
  },
});
