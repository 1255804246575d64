import { defineRoute } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';
import { txnOf } from './common.js';

export const sendMessage = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}',
  auth: 'required',
  rateLimit: 'send',
  body: jsonObject,
  handler: async ({ app, requester, params, body }) => {
    const eventId = await app.rooms.sendMessage(
      params.roomId,
      requester.userId,
      params.eventType,
      body,
      txnOf(requester, ['send', params.roomId, params.eventType], params.txnId),
    );
    return { body: { event_id: eventId } };
  },
});
