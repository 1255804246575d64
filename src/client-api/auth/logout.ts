import { defineRoute } from '../../http/route.js';

/** Logging out deletes the device along with its tokens (spec: the device is deleted too). */
export const logout = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/logout',
  auth: 'required',
  handler: async ({ app, requester }) => {
    await app.storage.devices.deleteDevices(requester.userId, [requester.deviceId]);
    await app.hooks.devicesDeleted.emit(requester.userId, [requester.deviceId]);
    return { body: {} };
  },
});

export const logoutAll = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/logout/all',
  auth: 'required',
  handler: async ({ app, requester }) => {
    const devices = await app.storage.devices.listDevices(requester.userId);
    await app.storage.devices.deleteAllDevices(requester.userId, null);
    await app.hooks.devicesDeleted.emit(
      requester.userId,
      devices.map((d) => d.deviceId),
    );
    return { body: {} };
  },
});
