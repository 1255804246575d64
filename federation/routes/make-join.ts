/** `GET /_matrix/federation/v1/make_join/{roomId}/{userId}`: a join event template (federation/rooms/make-membership.ts). */
import { z } from 'zod';
import type { JsonObject } from '../../src/core/json.js';
import { makeMembership } from '../rooms/make-membership.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const makeJoin = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/make_join/{roomId}/{userId}',
  query: z.object({ ver: z.union([z.string(), z.array(z.string())]).optional() }).loose(),
  aclRoom: (p) => p.roomId,
  handler: async ({ app, origin, params, query }) => {
    const versions = query.ver === undefined ? undefined : Array.isArray(query.ver) ? query.ver : [query.ver];
    const t = await makeMembership(app.roomFederation.deps, 'join', origin, params.roomId, params.userId, versions);
    return { body: t as unknown as JsonObject };
  },
});
