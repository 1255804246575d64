/**
 * `PUT /_matrix/federation/v1/invite/{roomId}/{eventId}` (deprecated, for room versions 1 and 2):
 * the body is the invite event itself, with the stripped room state in its `unsigned`; the answer
 * is `[200, {event}]`. Checked and countersigned exactly as invite v2 (federation/rooms/receive-invite.ts).
 */
import { z } from 'zod';
import type { JsonValue } from '../../src/core/json.js';
import { defineFederationRoute } from '../http/federation-route.js';
import { inviteV1RoomVersion, receiveInvite } from '../rooms/receive-invite.js';

export const inviteV1 = defineFederationRoute({
  method: 'PUT',
  path: '/_matrix/federation/v1/invite/{roomId}/{eventId}',
  body: z.record(z.string(), z.unknown()),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, body }) => {
    const version = await inviteV1RoomVersion(app.roomFederation.deps, params.roomId);
    const unsigned = body.unsigned;
    const stripped = typeof unsigned === 'object' && unsigned !== null && !Array.isArray(unsigned) ? (unsigned as Record<string, unknown>).invite_room_state : undefined;
    const r = await receiveInvite(app.roomFederation.deps, origin, params.roomId, params.eventId, {
      room_version: version.id,
      event: body,
      invite_room_state: Array.isArray(stripped) ? (stripped as JsonValue[]) : undefined,
    });
    // Route bodies are JSON objects; this one answer of the spec is an array, so it is sent as bytes.
    const data = Buffer.from(JSON.stringify([200, r]));
    return { binary: { data, contentType: 'application/json', length: data.length } };
  },
});
