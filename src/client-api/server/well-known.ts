import type { JsonObject } from '../../core/json.js';
import { defineRoute } from '../../http/route.js';

export const wellKnownClient = defineRoute({
  method: 'GET',
  path: '/.well-known/matrix/client',
  auth: 'none',
  handler: async ({ app }) => {
    const body: JsonObject = { 'm.homeserver': { base_url: app.config.public_baseurl } };
    // MSC4143: where MatrixRTC clients (Element Call) find this deployment's SFU backends.
    const foci = app.config.matrix_rtc.foci;
    if (foci.length > 0) body['org.matrix.msc4143.rtc_foci'] = foci as JsonObject[];
    return { body };
  },
});
