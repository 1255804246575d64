import { z } from 'zod';
import { verifyPassword } from '../../accounts/passwords.js';
import { prepareSession } from '../../accounts/sessions.js';
import { forbidden, MatrixError, missingParam, userDeactivated } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { identifiedUser } from './uia.js';

export const getLoginFlows = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/login',
  auth: 'none',
  handler: async () => ({ body: { flows: [{ type: 'm.login.password' }] } }),
});

export const login = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/login',
  auth: 'none',
  rateLimit: 'login',
  body: z.object({
    type: z.string(),
    identifier: z.looseObject({ type: z.string() }).optional(),
    user: z.string().optional(),
    password: z.string().optional(),
    device_id: z.string().min(1).max(255).optional(),
    initial_device_display_name: z.string().max(255).optional(),
    refresh_token: z.boolean().optional(),
  }),
  handler: async (req) => {
    const { app, body } = req;
    if (body.type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', 'Bad login type.');
    if (body.identifier === undefined && body.user === undefined) throw missingParam("Missing key 'identifier'");
    if (body.password === undefined) throw missingParam("Missing key 'password'");
    // Unknown identifier types (third-party IDs: we have none) and users of other servers cannot log in here.
    const userId = identifiedUser(app, body);
    const user = userId === undefined ? undefined : await app.storage.accounts.getUser(userId);
    const ok = user?.passwordHash != null && (await verifyPassword(body.password, user.passwordHash));
    if (!user || !ok) throw forbidden('Invalid username or password');
    if (user.deactivated) throw userDeactivated();

    const session = prepareSession(app, {
      userId: user.userId,
      deviceId: body.device_id,
      initialDisplayName: body.initial_device_display_name,
      wantsRefreshToken: body.refresh_token === true,
      ip: req.ip,
    });
    const existed = await app.storage.devices.getDevice(user.userId, session.record.deviceId);
    await app.storage.devices.createSession(session.record);
    if (!existed) await app.deviceLists.markChanged(user.userId, [session.record.deviceId]);
    req.log.info({ userId: user.userId, deviceId: session.record.deviceId }, 'login');
    return {
      body: {
        ...session.response,
        home_server: app.serverName,
        well_known: { 'm.homeserver': { base_url: app.config.public_baseurl } },
      },
    };
  },
});
