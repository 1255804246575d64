/** POST /_matrix/media/v1/create: reserve an mxc:// URI for a later upload. */
import { defineRoute } from '../../http/route.js';
import { mxcUri } from '../../media/media-ids.js';

export const createMedia = defineRoute({
  method: 'POST',
  path: '/_matrix/media/v1/create',
  auth: 'required',
  rateLimit: 'media',
  handler: async ({ app, requester }) => {
    const { mediaId, unusedExpiresTs } = await app.media.reserve(requester.userId);
    return { body: { content_uri: mxcUri(app.serverName, mediaId), unused_expires_at: unusedExpiresTs } };
  },
});
