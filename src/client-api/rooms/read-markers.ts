/**
 * POST /rooms/{roomId}/read_markers: the fully read marker (`m.fully_read` room account data, which
 * clients may not write directly) and, in the same call, the `m.read` / `m.read.private` receipts.
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { forbidden, notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkRoomId } from '../params.js';

const eventId = z.string().startsWith('$');

/** Moves the user's `m.fully_read` marker (403 when not joined, 404 for an event not in the room). */
export async function setFullyRead(app: AppContext, userId: string, roomId: string, eventId: string): Promise<void> {
  const member = await app.storage.events.getMembership(roomId, userId);
  if (member?.membership !== 'join') throw forbidden('You are not in this room.');
  const stored = await app.storage.events.getEvent(eventId);
  if (!stored || stored.event.roomId !== roomId || stored.outlier) throw notFound('Event not found in this room.');
  await app.storage.accountData.put(userId, roomId, 'm.fully_read', { event_id: eventId });
  app.notifier.notify('account_data', [userId]);
}

export const postReadMarkers = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/rooms/{roomId}/read_markers',
  auth: 'required',
  body: z.object({ 'm.fully_read': eventId.optional(), 'm.read': eventId.optional(), 'm.read.private': eventId.optional() }),
  handler: async ({ app, requester, params, body }) => {
    const roomId = checkRoomId(params.roomId);
    const userId = requester.userId;
    if (body['m.fully_read'] !== undefined) await setFullyRead(app, userId, roomId, body['m.fully_read']);
    if (body['m.read'] !== undefined) await app.receipts.setReceipt(roomId, userId, 'm.read', body['m.read'], null);
    if (body['m.read.private'] !== undefined) {
      await app.receipts.setReceipt(roomId, userId, 'm.read.private', body['m.read.private'], null);
    }
    return { body: {} };
  },
});
