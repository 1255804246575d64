/** GET /media/preview_url (authenticated v1 and deprecated v3; both need a token). */
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import { forbidden, MatrixError } from '../../http/errors.js';
import { defineRoute, type RouteResponse } from '../../http/route.js';
import { FetchFailed, FetchRefused } from '../../media/url-preview/safe-fetch.js';

const query = z.object({ url: z.string().min(1).max(2048), ts: z.string().optional() }).loose();

async function preview(app: AppContext, url: string, userId: string): Promise<RouteResponse> {
  if (!app.urlPreviews.enabled) throw forbidden('URL previews are disabled on this server');
  try {
    return { body: await app.urlPreviews.preview(url, userId) };
  } catch (err) {
    if (err instanceof FetchRefused) throw forbidden(err.message);
    if (err instanceof FetchFailed) throw new MatrixError(502, 'M_UNKNOWN', `Cannot preview this URL: ${err.message}`);
    throw err;
  }
}

export const previewUrlAuthed = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v1/media/preview_url',
  auth: 'required',
  rateLimit: 'media',
  query,
  handler: ({ app, query, requester }) => preview(app, query.url, requester.userId),
});

export const previewUrlLegacy = defineRoute({
  method: 'GET',
  path: '/_matrix/media/v3/preview_url',
  auth: 'required',
  rateLimit: 'media',
  query,
  handler: ({ app, query, requester }) => preview(app, query.url, requester.userId),
});
