/** PUT /sendToDevice/{eventType}/{txnId} (src/ephemeral/to-device.ts). */
import { z } from 'zod';
import { isUserId } from '../../accounts/user-ids.js';
import { defineRoute } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';
import { scopedTxnId } from '../../room-engine/txn-scope.js';

const messages = z.record(
  z.string().refine(isUserId, 'expected a user ID'),
  z.record(z.string().min(1), jsonObject),
);

export const sendToDevice = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/sendToDevice/{eventType}/{txnId}',
  auth: 'required',
  body: z.object({ messages }),
  handler: async ({ app, requester, params, body }) => {
    await app.toDevice.send(
      { userId: requester.userId, deviceId: requester.deviceId },
      params.eventType,
      // A txnId names one request to one path, and the path includes the event type.
      scopedTxnId([params.eventType], params.txnId),
      body.messages,
    );
    return { body: {} };
  },
});
