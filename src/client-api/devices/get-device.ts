import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { deviceJson } from './device-json.js';

export const getDevice = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/devices/{deviceId}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    const device = await app.storage.devices.getDevice(requester.userId, params.deviceId);
    if (!device) throw notFound('No such device');
    return { body: deviceJson(device) };
  },
});
