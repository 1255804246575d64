/** GET/PUT /presence/{userId}/status (src/ephemeral/presence.ts). */
import { z } from 'zod';
import { presenceContent } from '../../ephemeral/presence.js';
import { sharingRoomWith } from '../../ephemeral/shared-rooms.js';
import { forbidden, notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkUserId, requireSelf } from '../params.js';

export const getPresence = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/presence/{userId}/status',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    const userId = checkUserId(params.userId);
    if (userId !== requester.userId) {
      const local = userId.endsWith(`:${app.serverName}`);
      if (local && !(await app.storage.accounts.getUser(userId))) throw notFound('No such user.');
      const shared = await sharingRoomWith(app.storage.events, requester.userId, [userId]);
      if (!shared.has(userId)) throw forbidden('You do not share a room with this user.');
    }
    const view = await app.presence.getPresence(userId);
    return { body: presenceContent(view, app.clock.now()) };
  },
});

export const setPresence = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/presence/{userId}/status',
  auth: 'required',
  body: z.object({ presence: z.enum(['online', 'offline', 'unavailable']), status_msg: z.string().max(1024).nullable().optional() }),
  handler: async ({ app, requester, params, body }) => {
    requireSelf(requester, checkUserId(params.userId), 'presence');
    await app.presence.setPresence(requester.userId, requester.deviceId, body.presence, body.status_msg ?? null);
    return { body: {} };
  },
});
