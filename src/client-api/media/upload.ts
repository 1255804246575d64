/** POST /_matrix/media/v3/upload and PUT /_matrix/media/v3/upload/{serverName}/{mediaId}. */
import { z } from 'zod';
import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkMxcParts, mxcUri } from '../../media/media-ids.js';
import { uploadFilename } from './media-params.js';

const maxBytes = (config: { media: { max_upload_bytes: number } }) => config.media.max_upload_bytes;

export const uploadMedia = defineRoute({
  method: 'POST',
  path: '/_matrix/media/v3/upload',
  auth: 'required',
  rateLimit: 'media',
  query: z.object({ filename: uploadFilename }).loose(),
  rawBody: { maxBytes },
  handler: async ({ app, requester, query, raw }) => {
    const mediaId = await app.media.upload(requester.userId, raw!, query.filename ?? null);
    return { body: { content_uri: mxcUri(app.serverName, mediaId) } };
  },
});

export const uploadReservedMedia = defineRoute({
  method: 'PUT',
  path: '/_matrix/media/v3/upload/{serverName}/{mediaId}',
  auth: 'required',
  rateLimit: 'media',
  query: z.object({ filename: uploadFilename }).loose(),
  rawBody: { maxBytes },
  handler: async ({ app, requester, params, query, raw }) => {
    checkMxcParts(params.serverName, params.mediaId);
    if (params.serverName !== app.serverName) throw notFound('Unknown media ID');
    await app.media.uploadReserved(requester.userId, params.mediaId, raw!, query.filename ?? null);
    return { body: {} };
  },
});
