import { defineRoute } from '../../http/route.js';

export const wellKnownClient = defineRoute({
  method: 'GET',
  path: '/.well-known/matrix/client',
  auth: 'none',
  handler: async ({ app }) => ({ body: { 'm.homeserver': { base_url: app.config.public_baseurl } } }),
});
