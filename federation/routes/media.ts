/**
 * `GET /_matrix/federation/v1/media/download/{mediaId}` and `/thumbnail/{mediaId}`: this server's own
 * media for other servers (X-Matrix authenticated), as the spec's two-part multipart/mixed body with
 * the bytes streamed from disk. Only local media is served (never media we cached from elsewhere);
 * quarantined media is 404; the legacy freeze does not apply (servers are authenticated).
 */
import { z } from 'zod';
import type { AppContext } from '../../src/app-context.js';
import { notFound } from '../../src/http/errors.js';
import type { RouteResponse } from '../../src/http/route.js';
import { contentDisposition, isInlineSafe, mediaSecurityHeaders } from '../../src/media/content-headers.js';
import { isMediaId } from '../../src/media/media-ids.js';
import { timeoutMs } from '../../src/client-api/media/media-params.js';
import { thumbnailFilename, thumbnailQuery } from '../../src/client-api/media/thumbnail.js';
import { defineFederationRoute } from '../http/federation-route.js';
import { writeMultipartMedia } from '../media/multipart.js';

async function localMedia(app: AppContext, mediaId: string, timeout: number) {
  if (!isMediaId(mediaId)) throw notFound('Media not found');
  return app.media.lookup(app.serverName, mediaId, { timeoutMs: timeout, allowRemote: false });
}

async function multipartResponse(app: AppContext, sha256: string, contentType: string, disposition: string): Promise<RouteResponse> {
  const blob = await app.media.blobs.open(sha256);
  if (!blob) throw notFound('Media not found');
  const body = writeMultipartMedia(
    {},
    { headers: { 'Content-Type': contentType, 'Content-Disposition': disposition }, body: blob.stream, length: blob.size },
  );
  return {
    binary: { data: body.stream, contentType: body.contentType, length: body.length },
    headers: mediaSecurityHeaders(),
  };
}

export const federationMediaDownload = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/media/download/{mediaId}',
  query: z.object({ timeout_ms: timeoutMs }).loose(),
  handler: async ({ app, params, query }) => {
    const media = await localMedia(app, params.mediaId, query.timeout_ms);
    const disposition = contentDisposition(isInlineSafe(media.contentType) ? 'inline' : 'attachment', media.filename);
    return multipartResponse(app, media.sha256, media.contentType, disposition);
  },
});

export const federationMediaThumbnail = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/media/thumbnail/{mediaId}',
  query: thumbnailQuery,
  handler: async ({ app, params, query }) => {
    const media = await localMedia(app, params.mediaId, query.timeout_ms);
    const result = await app.media.thumbnail(media, {
      width: query.width,
      height: query.height,
      method: query.method,
      animated: query.animated ?? false,
    });
    const { sha256, contentType } = result.kind === 'thumbnail' ? result.thumb : result.media;
    return multipartResponse(app, sha256, contentType, contentDisposition('inline', thumbnailFilename(contentType)));
  },
});
