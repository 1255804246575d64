/** `GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}` (federation/rooms/served-reads.ts). */
import { defineFederationRoute } from '../http/federation-route.js';

export const eventAuth = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/event_auth/{roomId}/{eventId}',
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params }) => ({ body: await app.roomFederation.reads.eventAuth(origin, params.roomId, params.eventId) }),
});
