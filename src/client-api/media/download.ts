/**
 * Downloads: authenticated `/_matrix/client/v1/media/download/...` and the deprecated unauthenticated
 * `/_matrix/media/v3/download/...` (404 when `media.freeze_unauthenticated` is set, as the spec allows
 * for frozen servers). The file is streamed from disk, never buffered.
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
}

export async function serveDownload(app: AppContext, a: DownloadArgs): Promise<RouteResponse> {
  checkMxcParts(a.serverName, a.mediaId);
  const media = await app.media.lookup(a.serverName, a.mediaId, { timeoutMs: a.timeoutMs, allowRemote: a.allowRemote });
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

function refuseIfFrozen(app: AppContext): void {
  if (app.config.media.freeze_unauthenticated) {
    throw notFound('Unauthenticated media access is frozen: use /_matrix/client/v1/media/download');
  }
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
  handler: async ({ app, params, query }) => {
    refuseIfFrozen(app);
    return serveDownload(app, { ...params, timeoutMs: query.timeout_ms, allowRemote: query.allow_remote ?? true });
  },
});

export const downloadLegacyFileName = defineRoute({
  method: 'GET',
  path: '/_matrix/media/v3/download/{serverName}/{mediaId}/{fileName}',
  auth: 'none',
  query: legacyQuery,
  handler: async ({ app, params, query }) => {
    refuseIfFrozen(app);
    return serveDownload(app, { ...params, timeoutMs: query.timeout_ms, allowRemote: query.allow_remote ?? true });
  },
});
