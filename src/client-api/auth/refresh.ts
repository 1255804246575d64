import { z } from 'zod';
import { hashToken, newAccessToken, newRefreshToken } from '../../accounts/tokens.js';
import { unknownToken } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

export const refresh = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/refresh',
  auth: 'none',
  body: z.object({ refresh_token: z.string() }),
  handler: async ({ app, body }) => {
    const accessToken = newAccessToken();
    const refreshToken = newRefreshToken();
    const lifetime = app.config.auth.refreshable_access_token_lifetime_ms;
    const now = app.clock.now();
    const result = await app.storage.devices.refresh(
      hashToken(body.refresh_token),
      hashToken(accessToken),
      hashToken(refreshToken),
      now + lifetime,
      now,
    );
    if (!result.ok) throw unknownToken(false, 'Unknown refresh token');
    return { body: { access_token: accessToken, refresh_token: refreshToken, expires_in_ms: lifetime } };
  },
});
