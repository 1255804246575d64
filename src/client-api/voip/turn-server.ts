import { turnCredentials } from '../../calls/turn-credentials.js';
import { forbidden } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

/**
 * GET /voip/turnServer. With no TURN configured the answer is 200 `{}`: the spec defines no error
 * for it, and clients (matrix-js-sdk, Element) read a response without `uris` as "no TURN server".
 */
export const getTurnServer = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/voip/turnServer',
  auth: 'required',
  handler: async ({ app, requester }) => {
    if (requester.isGuest && !app.config.turn.allow_guests) throw forbidden('Guests may not use the TURN server');
    const creds = turnCredentials(app.config.turn, requester.userId, app.clock.now());
    return { body: creds ? { ...creds } : {} };
  },
});
