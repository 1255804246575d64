import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createUser } from '../../accounts/create-user.js';
import { prepareSession } from '../../accounts/sessions.js';
import { localpartProblem, userIdFor } from '../../accounts/user-ids.js';
import type { AppContext } from '../../app-context.js';
import type { JsonObject } from '../../core/json.js';
import { forbidden, invalidUsername, MatrixError, userInUse } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { requireUia, type StageType, uiaAuthSchema } from '../auth/uia.js';

export function registrationFlows(app: AppContext): StageType[][] {
  return app.config.registration.tokens_required ? [['m.login.registration_token']] : [['m.login.dummy']];
}

/** Checks a requested username; throws the spec's M_INVALID_USERNAME / M_USER_IN_USE. */
export async function checkUsername(app: AppContext, username: string): Promise<string> {
  const localpart = username.toLowerCase();
  const problem = localpartProblem(localpart, app.serverName);
  if (problem) throw invalidUsername(problem);
  const userId = userIdFor(localpart, app.serverName);
  if (await app.storage.accounts.getUser(userId)) throw userInUse();
  return userId;
}

export const register = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/register',
  auth: 'none',
  rateLimit: 'register',
  query: z.object({ kind: z.enum(['user', 'guest']).default('user') }),
  body: z.object({
    auth: uiaAuthSchema.optional(),
    username: z.string().optional(),
    password: z.string().max(512).optional(),
    device_id: z.string().min(1).max(255).optional(),
    initial_device_display_name: z.string().max(255).optional(),
    inhibit_login: z.boolean().optional(),
    refresh_token: z.boolean().optional(),
  }),
  handler: async (req) => {
    const { app, body } = req;
    if (req.query.kind === 'guest') {
      throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access is not enabled on this server');
    }
    if (!app.config.registration.enabled) throw forbidden('Registration is disabled');
    // The spec requires username errors before user-interactive auth.
    let userId = body.username !== undefined ? await checkUsername(app, body.username) : undefined;
    await requireUia(req, body.auth, { flows: registrationFlows(app), userId: null });

    const session = body.inhibit_login
      ? undefined
      : (userId: string) =>
          prepareSession(app, {
            userId,
            deviceId: body.device_id,
            initialDisplayName: body.initial_device_display_name,
            wantsRefreshToken: body.refresh_token === true,
            ip: req.ip,
          });
    for (let attempt = 0; ; attempt++) {
      // Without a username we pick one; retry on the (unlikely) collision.
      const id = userId ?? userIdFor(randomBytes(6).toString('hex'), app.serverName);
      const prepared = session?.(id);
      const created = await createUser(app, {
        userId: id,
        password: body.password ?? null,
        isAdmin: false,
        session: prepared?.record,
      });
      if (created) {
        req.log.info({ userId: id }, 'registered user');
        const out: JsonObject = prepared ? { ...prepared.response, home_server: app.serverName } : { user_id: id };
        return { body: out };
      }
      // Taken between the check and now (a concurrent registration): the spec allows the error here too.
      if (userId !== undefined || attempt >= 5) throw userInUse();
      userId = undefined;
    }
  },
});
