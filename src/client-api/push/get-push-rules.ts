import { defineRoute } from '../../http/route.js';
import { defaultPushRules } from '../../push/default-rules.js';

/** GET /pushrules/: the server-default rules (user-defined rules are not supported yet). */
export const getPushRules = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/pushrules/',
  auth: 'required',
  handler: async ({ requester }) => ({ body: { global: defaultPushRules(requester.userId) } }),
});
