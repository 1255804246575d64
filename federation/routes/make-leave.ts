/** `GET /_matrix/federation/v1/make_leave/{roomId}/{userId}`: a leave event template (federation/rooms/make-membership.ts). */
import type { JsonObject } from '../../src/core/json.js';
import { makeMembership } from '../rooms/make-membership.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const makeLeave = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/make_leave/{roomId}/{userId}',
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params }) => {
    const versions = undefined;
    const t = await makeMembership(app.roomFederation.deps, 'leave', origin, params.roomId, params.userId, versions);
    return { body: t as unknown as JsonObject };
  },
});
