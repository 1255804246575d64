/** `POST /_matrix/federation/v1/user/keys/query` and `/claim` (federation/users/device-keys.ts). */
import { z } from 'zod';
import { defineFederationRoute } from '../http/federation-route.js';

export const queryUserKeys = defineFederationRoute({
  method: 'POST',
  path: '/_matrix/federation/v1/user/keys/query',
  body: z.object({ device_keys: z.record(z.string(), z.array(z.string())) }).loose(),
  handler: async ({ app, body }) => ({ body: await app.federation.deviceKeys.queryKeys(body.device_keys) }),
});

export const claimUserKeys = defineFederationRoute({
  method: 'POST',
  path: '/_matrix/federation/v1/user/keys/claim',
  body: z.object({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string())) }).loose(),
  handler: async ({ app, body }) => ({ body: await app.federation.deviceKeys.claimKeys(body.one_time_keys) }),
});
