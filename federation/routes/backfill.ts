/** `GET /_matrix/federation/v1/backfill/{roomId}?v=&limit=` (federation/rooms/served-reads.ts). */
import { z } from 'zod';
import { defineFederationRoute } from '../http/federation-route.js';

export const backfill = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/backfill/{roomId}',
  query: z.object({ v: z.union([z.string(), z.array(z.string())]), limit: z.string().regex(/^\d{1,6}$/).transform(Number) }).loose(),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, query }) => ({
    body: await app.roomFederation.reads.backfill(origin, params.roomId, Array.isArray(query.v) ? query.v : [query.v], query.limit),
  }),
});
