import { z } from 'zod';
import { forbidden } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

export const registrationTokenValidity = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/register/m.login.registration_token/validity',
  auth: 'none',
  rateLimit: 'register',
  query: z.object({ token: z.string() }),
  handler: async ({ app, query }) => {
    if (!app.config.registration.enabled) throw forbidden('Registration is not enabled on this homeserver.');
    return { body: { valid: app.config.registration.tokens.includes(query.token) } };
  },
});
