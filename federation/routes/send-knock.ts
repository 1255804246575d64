/** `PUT /_matrix/federation/v1/send_knock/{roomId}/{eventId}` (federation/rooms/send-membership.ts). */
import { z } from 'zod';
import { sendMembership } from '../rooms/send-membership.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const sendKnock = defineFederationRoute({
  method: 'PUT',
  path: '/_matrix/federation/v1/send_knock/{roomId}/{eventId}',
  body: z.record(z.string(), z.unknown()),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, body }) => ({
    body: await sendMembership(app.roomFederation.deps, 'knock', origin, params.roomId, params.eventId, body),
  }),
});
