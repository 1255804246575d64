import { defineRoute } from '../../http/route.js';

/** Every spec version this server implements the mandatory parts of (v1.1 through v1.16). */
const VERSIONS = Array.from({ length: 16 }, (_, i) => `v1.${i + 1}`);

export const versions = defineRoute({
  method: 'GET',
  path: '/_matrix/client/versions',
  auth: 'none',
  handler: async () => ({ body: { versions: VERSIONS, unstable_features: {} } }),
});
