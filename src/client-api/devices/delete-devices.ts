import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { defineRoute, type Requester } from '../../http/route.js';
import { requireUia, uiaAuthSchema } from '../auth/uia.js';

/** Deleting devices logs them out; it needs the user's password (UIA), as the spec recommends. */
async function deleteDevicesWithUia(
  req: { app: AppContext; method: string; path: string; requester: Requester },
  auth: z.infer<typeof uiaAuthSchema> | undefined,
  deviceIds: readonly string[],
) {
  const { app, requester } = req;
  await requireUia(req, auth, { flows: [['m.login.password']], userId: requester.userId });
  await app.storage.devices.deleteDevices(requester.userId, deviceIds);
  await app.hooks.devicesDeleted.emit(requester.userId, deviceIds);
  return { body: {} };
}

export const deleteDevice = defineRoute({
  method: 'DELETE',
  path: '/_matrix/client/v3/devices/{deviceId}',
  auth: 'required',
  body: z.object({ auth: uiaAuthSchema.optional() }),
  handler: async (req) => deleteDevicesWithUia(req, req.body.auth, [req.params.deviceId]),
});

export const deleteDevices = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/delete_devices',
  auth: 'required',
  body: z.object({ devices: z.array(z.string()).max(1000), auth: uiaAuthSchema.optional() }),
  handler: async (req) => deleteDevicesWithUia(req, req.body.auth, req.body.devices),
});
