/** `PUT /_matrix/federation/v2/invite/{roomId}/{eventId}`: countersign an invite of a local user (federation/rooms/receive-invite.ts). */
import { z } from 'zod';
import type { JsonObject, JsonValue } from '../../src/core/json.js';
import { receiveInvite } from '../rooms/receive-invite.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const inviteV2 = defineFederationRoute({
  method: 'PUT',
  path: '/_matrix/federation/v2/invite/{roomId}/{eventId}',
  body: z.object({ room_version: z.string(), event: z.record(z.string(), z.unknown()), invite_room_state: z.array(z.unknown()).optional() }).loose(),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, body }) => {
    const r = await receiveInvite(app.roomFederation.deps, origin, params.roomId, params.eventId, {
      room_version: body.room_version,
      event: body.event,
      invite_room_state: body.invite_room_state as JsonValue[] | undefined,
    });
    return { body: r as unknown as JsonObject };
  },
});
