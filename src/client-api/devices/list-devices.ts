import { defineRoute } from '../../http/route.js';
import { deviceJson } from './device-json.js';

export const listDevices = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/devices',
  auth: 'required',
  handler: async ({ app, requester }) => ({
    body: { devices: (await app.storage.devices.listDevices(requester.userId)).map(deviceJson) },
  }),
});
