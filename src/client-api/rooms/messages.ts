import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { invalidParam } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { asJson } from '../../sync-engine/room-history.js';
import { effectiveLimit } from '../../sync/filter.js';
import { formatTopoToken, parsePaginationToken, type TopoPosition, topoAfter, topoBefore } from '../../sync/sync-token.js';
import { checkRoomId } from '../params.js';
import { roomEventFilterParam } from '../sync/filter-param.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 1000;
/** How many /backfill exchanges one /messages request may wait for. */
const BACKFILL_ROUNDS = 3;

export const getMessages = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/messages',
  auth: 'required',
  query: z
    .object({
      dir: z.enum(['b', 'f']),
      from: z.string().optional(),
      to: z.string().optional(),
      limit: z.string().regex(/^[0-9]{1,9}$/, 'expected a non-negative integer').optional(),
      filter: z.string().optional(),
    })
    .loose(),
  handler: async ({ app, requester, params, query }) => {
    const roomId = checkRoomId(params.roomId);
    await app.rooms.requireRoom(roomId);
    // Forbidden unless the user is or was in the room (or it is world readable).
    await app.roomReads.readableState(roomId, requester.userId);
    const history = app.sync.history;
    const filter = roomEventFilterParam(query.filter);
    const limit = query.limit === undefined ? effectiveLimit(filter, DEFAULT_LIMIT, MAX_LIMIT) : Math.min(Number(query.limit), MAX_LIMIT);

    const position = async (text: string, what: string): Promise<TopoPosition> => {
      const token = parsePaginationToken(text);
      if (!token) throw invalidParam(`Invalid ${what} token ${text}`);
      return history.toPosition(roomId, token);
    };
    // A former member reads back from where they left: nothing after it is visible to them anyway.
    const defaultEnd = async (): Promise<TopoPosition> => {
      const m = await app.storage.events.getMembership(roomId, requester.userId);
      const left = m && (m.membership === 'leave' || m.membership === 'ban') ? await app.storage.events.getEvent(m.eventId) : undefined;
      return left ? topoAfter({ depth: left.event.depth, streamOrdering: left.streamOrdering }) : history.topologicalEnd(roomId);
    };
    const from =
      query.from !== undefined
        ? await position(query.from, 'from')
        : query.dir === 'b'
          ? await defaultEnd()
          : { depth: 0, stream: 0 };
    const to = query.to === undefined ? undefined : await position(query.to, 'to');

    const read = () => history.topoWindow(requester.userId, roomId, from, query.dir, filter, limit, to);
    let window = limit === 0 ? { events: [], more: true } : await read();
    // Paging back past the start of what this server has of a room joined over federation:
    // fetch earlier history from the other servers in the room, then read again.
    for (let round = 0; round < BACKFILL_ROUNDS && query.dir === 'b' && to === undefined && !window.more && window.events.length < limit; round++) {
      if ((await app.roomFederation.backfiller.backfill(roomId, limit - window.events.length + 1)) === 0) break;
      window = await read();
    }
    const body: JsonObject = {
      start: formatTopoToken(from),
      chunk: asJson(await history.formatEvents(window.events, requester, false)),
    };
    const last = window.events[window.events.length - 1];
    if (window.more) {
      const key = last ? { depth: last.event.depth, streamOrdering: last.streamOrdering } : undefined;
      body.end = formatTopoToken(key ? (query.dir === 'b' ? topoBefore(key) : topoAfter(key)) : from);
    }
    if (filter.lazyLoadMembers && window.events.length > 0) {
      const ids = await history.senderMembers(window.events);
      body.state = asJson(await history.formatState(ids, requester, undefined, false));
    }
    return { body };
  },
});
