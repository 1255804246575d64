/** `GET /_matrix/federation/v1/state_ids/{roomId}?event_id=`: the room state before an event (federation/rooms/served-reads.ts). */
import { z } from 'zod';
import { defineFederationRoute } from '../http/federation-route.js';

export const stateIdsRoute = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/state_ids/{roomId}',
  query: z.object({ event_id: z.string() }).loose(),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, query }) => ({
    body: await app.roomFederation.reads.stateIds(origin, params.roomId, query.event_id),
  }),
});
