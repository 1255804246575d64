import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkRoomId } from '../params.js';

/** Candidates looked at per query; invisible ones are skipped. */
const CANDIDATES = 50;

export const timestampToEvent = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/rooms/{roomId}/timestamp_to_event',
  auth: 'required',
  query: z
    .object({
      ts: z.string().regex(/^[0-9]{1,15}$/, 'expected a timestamp in milliseconds'),
      dir: z.enum(['f', 'b']),
    })
    .loose(),
  handler: async ({ app, requester, params, query }) => {
    const roomId = checkRoomId(params.roomId);
    await app.rooms.requireRoom(roomId);
    await app.roomReads.readableState(roomId, requester.userId);
    const candidates = await app.storage.events.getRoomEventsByTimestamp(roomId, Number(query.ts), query.dir, CANDIDATES);
    for (const c of candidates) {
      if (await app.roomReads.canSee(requester.userId, c)) {
        return { body: { event_id: c.event.eventId, origin_server_ts: c.event.originServerTs } };
      }
    }
    throw notFound(`No event found ${query.dir === 'f' ? 'after' : 'before'} ${query.ts}`);
  },
});
