/** `GET /_matrix/federation/v1/timestamp_to_event/{roomId}?ts=&dir=` (federation/rooms/served-reads.ts). */
import { z } from 'zod';
import { defineFederationRoute } from '../http/federation-route.js';

export const timestampToEvent = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/timestamp_to_event/{roomId}',
  query: z.object({ ts: z.string().regex(/^\d{1,16}$/).transform(Number), dir: z.enum(['f', 'b']) }).loose(),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, query }) => ({
    body: await app.roomFederation.reads.timestampToEvent(origin, params.roomId, query.ts, query.dir),
  }),
});
