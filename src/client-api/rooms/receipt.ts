/**
 * POST /rooms/{roomId}/receipt/{receiptType}/{eventId}: `m.read`, `m.read.private`, or
 * `m.fully_read` (which is the read marker, as if sent to /read_markers).
 */
import { z } from 'zod';
import { invalidParam } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkRoomId } from '../params.js';
import { setFullyRead } from './read-markers.js';

export const postReceipt = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}',
  auth: 'required',
  body: z.object({ thread_id: z.unknown().optional() }).loose(),
  handler: async ({ app, requester, params, body }) => {
    const roomId = checkRoomId(params.roomId);
    const type = params.receiptType;
    if (type !== 'm.read' && type !== 'm.read.private' && type !== 'm.fully_read') {
      throw invalidParam(`Unknown receipt type ${type}`);
    }
    let threadId: string | null = null;
    if (body.thread_id !== undefined) {
      if (typeof body.thread_id !== 'string' || body.thread_id === '') throw invalidParam('thread_id must be a non-empty string');
      if (type === 'm.fully_read') throw invalidParam('thread_id is not allowed for m.fully_read');
      threadId = body.thread_id;
    }
    if (type === 'm.fully_read') await setFullyRead(app, requester.userId, roomId, params.eventId);
    else await app.receipts.setReceipt(roomId, requester.userId, type, params.eventId, threadId);
    await app.presence.active(requester.userId, requester.deviceId);
    return { body: {} };
  },
});
