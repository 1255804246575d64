/**
 * Media administration, on Synapse's admin paths so existing admin tools work:
 * quarantine (then 404 for everyone; remote media too, cached or not) and its undo, deleting all of a user's media, and usage per user.
 */
import { z } from 'zod';
import { invalidParam, notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkMxcParts } from '../../media/media-ids.js';
import { checkUserId } from '../params.js';
import { requireAdmin } from './require-admin.js';

export const quarantineMedia = defineRoute({
  method: 'POST',
  path: '/_synapse/admin/v1/media/quarantine/{serverName}/{mediaId}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await requireAdmin(app, requester);
    checkMxcParts(params.serverName, params.mediaId);
    if (!(await app.media.setQuarantined(params.serverName, params.mediaId, true))) {
      throw notFound('Unknown media ID');
    }
    requesterLog(requester.userId, 'quarantine', params.mediaId, app.logger);
    return { body: {} };
  },
});

export const unquarantineMedia = defineRoute({
  method: 'POST',
  path: '/_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await requireAdmin(app, requester);
    checkMxcParts(params.serverName, params.mediaId);
    if (!(await app.media.setQuarantined(params.serverName, params.mediaId, false))) {
      throw notFound('Unknown media ID');
    }
    requesterLog(requester.userId, 'unquarantine', params.mediaId, app.logger);
    return { body: {} };
  },
});

export const deleteUserMedia = defineRoute({
  method: 'DELETE',
  path: '/_synapse/admin/v1/users/{userId}/media',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await requireAdmin(app, requester);
    checkUserId(params.userId);
    const deleted = await app.media.deleteUserMedia(params.userId);
    app.logger.info({ admin: requester.userId, user: params.userId, count: deleted.length }, 'admin deleted user media');
    return { body: { deleted_media: deleted, total: deleted.length } };
  },
});

const pageQuery = z
  .object({
    from: z.coerce.number().int().min(0).optional().default(0),
    limit: z.coerce.number().int().min(1).max(1000).optional().default(100),
  })
  .loose();

export const mediaUsage = defineRoute({
  method: 'GET',
  path: '/_synapse/admin/v1/statistics/users/media',
  auth: 'required',
  query: pageQuery,
  handler: async ({ app, requester, query }) => {
    await requireAdmin(app, requester);
    if (query.from > Number.MAX_SAFE_INTEGER) throw invalidParam('from is too large');
    const { users, total } = await app.media.usage(query.limit, query.from);
    const next = query.from + users.length;
    return {
      body: {
        users: users.map((u) => ({ user_id: u.userId, media_count: u.mediaCount, media_length: u.mediaBytes })),
        total,
        ...(next < total ? { next_token: next } : {}),
      },
    };
  },
});

function requesterLog(admin: string, action: string, mediaId: string, logger: { info(o: object, m: string): void }): void {
  logger.info({ admin, action, mediaId }, 'admin media action');
}
