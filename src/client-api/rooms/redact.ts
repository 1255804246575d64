import { z } from 'zod';
import { defineRoute } from '../../http/route.js';
import { checkEventId } from '../params.js';
import { txnOf } from './common.js';

export const redactEvent = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}',
  auth: 'required',
  rateLimit: 'send',
  body: z.object({ reason: z.string().optional() }).loose(),
  handler: async ({ app, requester, params, body }) => {
    const eventId = await app.rooms.redact(
      params.roomId,
      requester.userId,
      // The redaction is stored and sent out: it must name something that can be an event.
      checkEventId(params.eventId),
      body.reason,
      txnOf(requester, ['redact', params.roomId, params.eventId], params.txnId),
    );
    return { body: { event_id: eventId } };
  },
});
