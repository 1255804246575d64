import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { splitStateKey } from '../../core/pdu.js';
import { invalidParam } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { parsePaginationToken } from '../../sync/sync-token.js';

const MEMBERSHIPS = ['join', 'invite', 'knock', 'leave', 'ban'] as const;

export const getMembers = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/members',
  auth: 'required',
  query: z
    .object({
      at: z.string().optional(),
      membership: z.enum(MEMBERSHIPS).optional(),
      not_membership: z.enum(MEMBERSHIPS).optional(),
    })
    .loose(),
  handler: async ({ app, requester, params, query }) => {
    await app.rooms.requireRoom(params.roomId);
    let state = await app.roomReads.readableState(params.roomId, requester.userId);
    if (query.at !== undefined) {
      // `at` is a /sync prev_batch or next_batch token (src/sync/sync-token.ts).
      const token = parsePaginationToken(query.at);
      if (!token) throw invalidParam(`Invalid at token ${query.at}`);
      const at = await app.sync.history.stateAtToken(params.roomId, token);
      if (at.size > 0) state = at;
    }
    const ids = [...state].filter(([k]) => splitStateKey(k)[0] === 'm.room.member').map(([, id]) => id);
    const events = await app.roomReads.formatMany(ids, requester);
    const chunk = events.filter((e) => {
      const m = e.content.membership;
      if (query.membership !== undefined && m !== query.membership) return false;
      if (query.not_membership !== undefined && m === query.not_membership) return false;
      return true;
    });
    return { body: { chunk: chunk as unknown as JsonObject[] } };
  },
});
