import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

export const updateDevice = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/devices/{deviceId}',
  auth: 'required',
  body: z.object({ display_name: z.string().max(255).optional() }),
  handler: async ({ app, requester, params, body }) => {
    const device = await app.storage.devices.getDevice(requester.userId, params.deviceId);
    if (!device) throw notFound('No such device');
    if (body.display_name !== undefined) {
      await app.storage.devices.setDeviceDisplayName(requester.userId, params.deviceId, body.display_name);
      if (body.display_name !== device.displayName) await app.deviceLists.markChanged(requester.userId, [params.deviceId]);
    }
    return { body: {} };
  },
});
