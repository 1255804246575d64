/** `GET /_matrix/federation/v1/event/{eventId}` (federation/rooms/served-reads.ts). */
import { defineFederationRoute } from '../http/federation-route.js';

export const getEvent = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/event/{eventId}',
  handler: async ({ app, origin, params }) => ({ body: await app.roomFederation.reads.event(origin, params.eventId) }),
});
