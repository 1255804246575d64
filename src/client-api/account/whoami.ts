import { defineRoute } from '../../http/route.js';

export const whoami = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/account/whoami',
  auth: 'required',
  handler: async ({ requester }) => ({
    body: { user_id: requester.userId, device_id: requester.deviceId, is_guest: requester.isGuest },
  }),
});
