/**
 * `GET /_matrix/federation/v1/openid/userinfo?access_token=`: who an OpenID token belongs to. Asked
 * by third parties, not servers, so it is not X-Matrix authenticated; the token is the credential.
 */
import { z } from 'zod';
import { openIdTokenOwner } from '../../src/accounts/openid-tokens.js';
import { unknownToken } from '../../src/http/errors.js';
import { defineRoute } from '../../src/http/route.js';

export const openIdUserInfo = defineRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/openid/userinfo',
  auth: 'none',
  query: z.object({ access_token: z.string().optional() }).loose(),
  handler: async ({ app, query }) => {
    const userId = await openIdTokenOwner(app.storage.openIdTokens, query.access_token ?? '', app.clock.now());
    if (userId === undefined) throw unknownToken(false, 'Access token unknown or expired');
    return { body: { sub: userId } };
  },
});
