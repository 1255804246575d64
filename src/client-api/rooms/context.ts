import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { asJson } from '../../sync-engine/room-history.js';
import { formatTopoToken, topoAfter, topoBefore } from '../../sync/sync-token.js';
import { checkRoomId } from '../params.js';
import { roomEventFilterParam } from '../sync/filter-param.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

export const getEventContext = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/context/{eventId}',
  auth: 'required',
  query: z
    .object({
      limit: z.string().regex(/^[0-9]{1,9}$/, 'expected a non-negative integer').optional(),
      filter: z.string().optional(),
    })
    .loose(),
  handler: async ({ app, requester, params, query }) => {
    const roomId = checkRoomId(params.roomId);
    const history = app.sync.history;
    const filter = roomEventFilterParam(query.filter);
    const limit = Math.min(Number(query.limit ?? DEFAULT_LIMIT), MAX_LIMIT);
    const stored = await app.storage.events.getEvent(params.eventId);
    // Unknown and invisible events answer alike, so the response leaks nothing.
    if (!stored || stored.event.roomId !== roomId || !(await app.roomReads.canSee(requester.userId, stored))) {
      throw notFound('Event not found');
    }
    const key = { depth: stored.event.depth, streamOrdering: stored.streamOrdering };
    // Half the budget before the event, the rest after.
    const beforeLimit = Math.floor(limit / 2);
    const afterLimit = limit - beforeLimit;
    const before =
      beforeLimit > 0 ? await history.topoWindow(requester.userId, roomId, topoBefore(key), 'b', filter, beforeLimit) : { events: [] };
    const after =
      afterLimit > 0 ? await history.topoWindow(requester.userId, roomId, topoAfter(key), 'f', filter, afterLimit) : { events: [] };

    const oldest = before.events[before.events.length - 1];
    const newest = after.events[after.events.length - 1];
    const start = oldest ? topoBefore({ depth: oldest.event.depth, streamOrdering: oldest.streamOrdering }) : topoBefore(key);
    const end = newest ? topoAfter({ depth: newest.event.depth, streamOrdering: newest.streamOrdering }) : topoAfter(key);

    // The state at the last event returned, lazily: only the members who sent the returned events.
    const lastEvent = newest ?? stored;
    const state = (await app.storage.events.getStateAfter(lastEvent.event.eventId)) ?? new Map<string, string>();
    let stateIds: string[];
    if (filter.lazyLoadMembers) {
      stateIds = await history.senderMembers([...before.events, stored, ...after.events]);
    } else {
      stateIds = [...state.values()];
    }
    const body: JsonObject = {
      start: formatTopoToken(start),
      end: formatTopoToken(end),
      event: (await app.roomReads.format(stored, requester)) as unknown as JsonObject,
      events_before: asJson(await history.formatEvents(before.events, requester, false)),
      events_after: asJson(await history.formatEvents(after.events, requester, false)),
      state: asJson(await history.formatState(stateIds, requester, undefined, false)),
    };
    return { body };
  },
});
