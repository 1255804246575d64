/** `POST /_matrix/federation/v1/get_missing_events/{roomId}` (federation/rooms/served-reads.ts). */
import { z } from 'zod';
import { defineFederationRoute } from '../http/federation-route.js';

export const getMissingEvents = defineFederationRoute({
  method: 'POST',
  path: '/_matrix/federation/v1/get_missing_events/{roomId}',
  body: z
    .object({
      earliest_events: z.array(z.string()),
      latest_events: z.array(z.string()),
      limit: z.number().int().optional(),
      min_depth: z.number().int().optional(),
    })
    .loose(),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, body }) => ({ body: await app.roomFederation.reads.missingEvents(origin, params.roomId, body) }),
});
