/**
 * Thumbnails: authenticated `/_matrix/client/v1/media/thumbnail/...` and the deprecated
 * `/_matrix/media/v3/thumbnail/...` (frozen like downloads). Remote media is fetched and cached, then
 * thumbnailed here like local media. Content that is not an image gets
 * 400 M_UNKNOWN, an image too large to decode 413 M_TOO_LARGE, as the spec's responses say.
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { notFound } from '../../http/errors.js';
import { defineRoute, type RouteResponse } from '../../http/route.js';
import { contentDisposition, mediaSecurityHeaders } from '../../media/content-headers.js';
import { checkMxcParts } from '../../media/media-ids.js';
import { booleanParam, timeoutMs } from './media-params.js';

/** Bigger boxes than this are clamped (the source is returned anyway when it is smaller). */
const MAX_DIMENSION = 4096;
const dimension = z
  .string()
  .regex(/^[0-9]{1,9}$/, 'must be a positive integer')
  .transform(Number)
  .pipe(z.number().int().min(1))
  .transform((n) => Math.min(n, MAX_DIMENSION));

export const thumbnailQuery = z
  .object({
    width: dimension,
    height: dimension,
    method: z.enum(['crop', 'scale']).optional().default('scale'),
    animated: booleanParam.optional(),
    timeout_ms: timeoutMs,
    allow_remote: booleanParam.optional(),
  })
  .loose();
export type ThumbnailQuery = z.infer<typeof thumbnailQuery>;

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };

/** The Content-Disposition filename of a thumbnail of this type. */
export function thumbnailFilename(contentType: string): string {
  return `thumbnail.${EXTENSIONS[contentType] ?? 'bin'}`;
}

async function serveThumbnail(
  app: AppContext,
  params: { serverName: string; mediaId: string },
  q: ThumbnailQuery,
  legacy = false,
): Promise<RouteResponse> {
  checkMxcParts(params.serverName, params.mediaId);
  const media = await app.media.lookup(params.serverName, params.mediaId, {
    timeoutMs: q.timeout_ms,
    allowRemote: q.allow_remote ?? true,
    legacy,
  });
  const result = await app.media.thumbnail(media, {
    width: q.width,
    height: q.height,
    method: q.method,
    animated: q.animated ?? false,
  });
  const { sha256, contentType } = result.kind === 'thumbnail' ? result.thumb : result.media;
  const blob = await app.media.blobs.open(sha256);
  if (!blob) throw notFound('Media not found');
  return {
    binary: { data: blob.stream, contentType, length: blob.size },
    headers: {
      ...mediaSecurityHeaders(),
      'Content-Disposition': contentDisposition('inline', thumbnailFilename(contentType)),
    },
  };
}

export const thumbnailAuthed = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}',
  auth: 'required',
  query: thumbnailQuery,
  handler: ({ app, params, query }) => serveThumbnail(app, params, { ...query, allow_remote: true }),
});

export const thumbnailLegacy = defineRoute({
  method: 'GET',
  path: '/_matrix/media/v3/thumbnail/{serverName}/{mediaId}',
  auth: 'none',
  query: thumbnailQuery,
  handler: ({ app, params, query }) => serveThumbnail(app, params, query, true),
});
