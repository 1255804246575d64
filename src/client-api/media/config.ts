/** GET /media/config (authenticated v1 and deprecated v3). */
import { defineRoute } from '../../http/route.js';

export const mediaConfigAuthed = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/media/config',
  auth: 'required',
  handler: async ({ app }) => ({ body: { 'm.upload.size': app.config.media.max_upload_bytes } }),
});

export const mediaConfigLegacy = defineRoute({
  method: 'GET',
  path: '/_matrix/media/v3/config',
  auth: 'required',
  handler: async ({ app }) => ({ body: { 'm.upload.size': app.config.media.max_upload_bytes } }),
});
