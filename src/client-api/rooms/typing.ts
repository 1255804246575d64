/** PUT /rooms/{roomId}/typing/{userId}: start or stop typing (src/ephemeral/typing.ts). */
import { z } from 'zod';
import { defineRoute } from '../../http/route.js';
import { checkRoomId, checkUserId, requireSelf } from '../params.js';

export const setTyping = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/rooms/{roomId}/typing/{userId}',
  auth: 'required',
  body: z.object({ typing: z.boolean(), timeout: z.number().int().min(0).optional() }),
  handler: async ({ app, requester, params, body }) => {
    checkRoomId(params.roomId);
    requireSelf(requester, checkUserId(params.userId), 'typing state');
    await app.typing.setTyping(params.roomId, requester.userId, body.typing, body.timeout);
    await app.presence.active(requester.userId, requester.deviceId);
    return { body: {} };
  },
});
