import { z } from 'zod';
import { defineRoute } from '../../http/route.js';
import { checkUsername } from './register.js';

export const registerAvailable = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/register/available',
  auth: 'none',
  rateLimit: 'register',
  query: z.object({ username: z.string() }),
  handler: async ({ app, query }) => {
    await checkUsername(app, query.username);
    return { body: { available: true } };
  },
});
