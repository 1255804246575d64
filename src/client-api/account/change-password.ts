import { z } from 'zod';
import { hashPassword } from '../../accounts/passwords.js';
import { defineRoute } from '../../http/route.js';
import { requirePasswordUser, uiaAuthSchema } from '../auth/uia.js';

/**
 * Works with an access token (the usual case) or without one, the password stage then identifying the
 * user. `logout_devices` (default true) logs out every other device; the requesting one stays.
 */
export const changePassword = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/account/password',
  auth: 'optional',
  body: z.object({
    new_password: z.string().min(1).max(512),
    logout_devices: z.boolean().optional(),
    auth: uiaAuthSchema.optional(),
  }),
  handler: async (req) => {
    const { app, body, requester } = req;
    const userId = await requirePasswordUser(req, body.auth, requester);
    const hash = await hashPassword(body.new_password, app.config.auth.scrypt_log_n);
    const logout = body.logout_devices !== false;
    const keep = requester?.deviceId ?? null;
    const removed = logout
      ? (await app.storage.devices.listDevices(userId)).map((d) => d.deviceId).filter((id) => id !== keep)
      : [];
    await app.storage.accounts.changePassword(userId, hash, logout ? { keepDeviceId: keep } : null);
    if (removed.length > 0) await app.hooks.devicesDeleted.emit(userId, removed);
    req.log.info({ userId, loggedOutDevices: removed.length }, 'password changed');
    return { body: {} };
  },
});
