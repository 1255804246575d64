/** `GET /_matrix/federation/v1/query/profile?user_id=&field=`: a local user's profile. */
import { z } from 'zod';
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import { notFound } from '../../src/http/errors.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const queryProfile = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/query/profile',
  query: z.object({ user_id: z.string(), field: z.string().optional() }).loose(),
  handler: async ({ app, query }) => {
    const profile = domainOf(query.user_id) === app.serverName ? await app.storage.accounts.getProfile(query.user_id) : undefined;
    if (!profile) throw notFound(`Profile of ${query.user_id} not found`);
    if (query.field !== undefined) {
      const v = profile[query.field];
      return { body: (v === undefined ? {} : { [query.field]: v }) as JsonObject };
    }
    return { body: profile as JsonObject };
  },
});
