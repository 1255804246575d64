import { z } from 'zod';
import { defineRoute } from '../../http/route.js';
import { requirePasswordUser, uiaAuthSchema } from '../auth/uia.js';

export const deactivateAccount = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/account/deactivate',
  auth: 'optional',
  body: z.object({
    auth: uiaAuthSchema.optional(),
    id_server: z.string().optional(),
    erase: z.boolean().optional(),
  }),
  handler: async (req) => {
    const { app, body, requester } = req;
    const userId = await requirePasswordUser(req, body.auth, requester);
    await app.storage.accounts.deactivate(userId, body.erase === true);
    await app.hooks.userDeactivated.emit(userId);
    req.log.info({ userId, erase: body.erase === true }, 'account deactivated');
    // We hold no third-party identifiers, so there is nothing an identity server could fail to unbind.
    return { body: { id_server_unbind_result: 'success' } };
  },
});
