/** `POST /_matrix/client/v3/user/{userId}/openid/request_token`: an OpenID token for the requester. */
import { issueOpenIdToken } from '../../accounts/openid-tokens.js';
import { forbidden } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';

export const requestOpenIdToken = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/user/{userId}/openid/request_token',
  auth: 'required',
  body: jsonObject,
  handler: async ({ app, requester, params }) => {
    if (params.userId !== requester.userId) throw forbidden('An OpenID token can only be requested for yourself');
    const token = await issueOpenIdToken(app.storage.openIdTokens, {
      userId: requester.userId,
      serverName: app.serverName,
      now: app.clock.now(),
      lifetimeMs: app.config.auth.openid_token_lifetime_ms,
    });
    return { body: { ...token } };
  },
});
