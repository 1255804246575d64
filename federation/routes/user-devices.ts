/** `GET /_matrix/federation/v1/user/devices/{userId}`: a local user's devices with their keys (federation/users/device-keys.ts). */
import { defineFederationRoute } from '../http/federation-route.js';

export const userDevices = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/user/devices/{userId}',
  handler: async ({ app, params }) => ({ body: await app.federation.deviceKeys.userDevices(params.userId) }),
});
