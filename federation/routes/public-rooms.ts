/** `GET` and `POST /_matrix/federation/v1/publicRooms`: this server's published rooms for another server. */
import { z } from 'zod';
import { listPublicRooms, publicRoomsFilterBody } from '../../src/room-engine/public-rooms.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const getPublicRoomsFederation = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/publicRooms',
  query: z
    .object({
      limit: z.coerce.number().int().min(0).optional(),
      since: z.string().optional(),
      include_all_networks: z.enum(['true', 'false']).optional(),
      third_party_instance_id: z.string().optional(),
    })
    .loose(),
  handler: async ({ app, query }) => ({
    body: await listPublicRooms(app.storage.events, app.storage.roomDirectory, { limit: query.limit, since: query.since }),
  }),
});

export const postPublicRoomsFederation = defineFederationRoute({
  method: 'POST',
  path: '/_matrix/federation/v1/publicRooms',
  body: publicRoomsFilterBody,
  handler: async ({ app, body }) => ({
    body: await listPublicRooms(app.storage.events, app.storage.roomDirectory, {
      limit: body.limit,
      since: body.since,
      searchTerm: body.filter?.generic_search_term,
    }),
  }),
});
