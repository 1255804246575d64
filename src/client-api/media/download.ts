/**
 * Downloads: authenticated `/_matrix/client/v1/media/download/...` and the deprecated unauthenticated
 * `/_matrix/media/v3/download/...` (with `media.freeze_unauthenticated`, media uploaded or cached since
 * the freeze is 404 there, as the spec says for frozen servers). The file is streamed from disk,
 * never buffered; remote media is fetched and cached first (MediaRepository.lookup).
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { notFound } from '../../http/errors.js';
import { defineRoute, type RouteResponse } from '../../http/route.js';
import { contentDisposition, isInlineSafe, mediaSecurityHeaders } from '../../media/content-headers.js';
import { checkMxcParts } from '../../media/media-ids.js';
import { booleanParam, timeoutMs } from './media-params.js';

const authedQuery = z.object({ timeout_ms: timeoutMs }).loose();
const legacyQuery = z
  .object({ timeout_ms: timeoutMs, allow_remote: booleanParam.optional(), allow_redirect: booleanParam.optional() })
  .loose();

interface DownloadArgs {
  serverName: string;
  mediaId: string;
  fileName?: string;
  timeoutMs: number;
  allowRemote: boolean;
  legacy?: boolean;
}

export async function serveDownload(app: AppContext, a: DownloadArgs): Promise<RouteResponse> {
  checkMxcParts(a.serverName, a.mediaId);
  const media = await app.media.lookup(a.serverName, a.mediaId, {
    timeoutMs: a.timeoutMs,
    allowRemote: a.allowRemote,
    legacy: a.legacy,
  });
  const blob = await app.media.blobs.open(media.sha256);
  if (!blob) throw notFound('Media not found');
  const filename = a.fileName ?? media.filename;
  return {
    binary: { data: blob.stream, contentType: media.contentType, length: blob.size },
    headers: {
      ...mediaSecurityHeaders(),
      'Content-Disposition': contentDisposition(isInlineSafe(media.contentType) ? 'inline' : 'attachment', filename),
    },
  };
}

export const downloadAuthed = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/media/download/{serverName}/{mediaId}',
  auth: 'required',
  query: authedQuery,
  handler: ({ app, params, query }) => serveDownload(app, { ...params, timeoutMs: query.timeout_ms, allowRemote: true }),
});

export const downloadAuthedFileName = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/media/download/{serverName}/{mediaId}/{fileName}',
  auth: 'required',
  query: authedQuery,
  handler: ({ app, params, query }) => serveDownload(app, { ...params, timeoutMs: query.timeout_ms, allowRemote: true }),
});

export const downloadLegacy = defineRoute({
  method: 'GET',
  path: '/_matrix/media/v3/download/{serverName}/{mediaId}',
  auth: 'none',
  query: legacyQuery,
  handler: ({ app, params, query }) =>
    serveDownload(app, { ...params, timeoutMs: query.timeout_ms, allowRemote: query.allow_remote ?? true, legacy: true }),
});

export const downloadLegacyFileName = defineRoute({
  method: 'GET',
  path: '/_matrix/media/v3/download/{serverName}/{mediaId}/{fileName}',
  auth: 'none',
  query: legacyQuery,
  handler: ({ app, params, query }) =>
    serveDownload(app, { ...params, timeoutMs: query.timeout_ms, allowRemote: query.allow_remote ?? true, legacy: true }),
});
