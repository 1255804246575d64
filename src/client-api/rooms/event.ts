import type { JsonObject } from '../../core/json.js';
import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

export const getRoomEvent = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/event/{eventId}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    const stored = await app.storage.events.getEvent(params.eventId);
    // Unknown and invisible events look the same, so the answer leaks nothing.
    if (!stored || stored.event.roomId !== params.roomId || !(await app.roomReads.canSee(requester.userId, stored))) {
      throw notFound('Event not found');
    }
    return { body: (await app.roomReads.format(stored, requester)) as unknown as JsonObject };
  },
});
