import { defineRoute } from '../../http/route.js';

export const forgetRoom = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/forget',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await app.rooms.forget(requester.userId, params.roomId);
    return { body: {} };
  },
});
