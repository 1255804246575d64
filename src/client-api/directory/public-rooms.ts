/** The published room directory: GET (anyone) and POST (with a filter) /publicRooms, here or on another server. */
import { z } from 'zod';
import { FederationError } from '../../../federation/client/federation-client.js';
import type { AppContext } from '../../app-context.js';
import type { JsonObject } from '../../core/json.js';
import { isValidServerName } from '../../core/server-name.js';
import { MatrixError } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { listPublicRooms, publicRoomsFilterBody, type PublicRoomsQuery } from '../../room-engine/public-rooms.js';

/**
 * Another server's directory (`?server=`) is asked over federation and passed through; the
 * request's filter and paging go with it.
 */
async function list(app: AppContext, q: PublicRoomsQuery, server: string | undefined, includeAllNetworks?: boolean) {
  if (server === undefined || server === app.serverName) {
    return { body: await listPublicRooms(app.storage.events, app.storage.roomDirectory, q) };
  }
  if (!isValidServerName(server)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid server name ${server}`);
  const path = '/_matrix/federation/v1/publicRooms';
  try {
    if (q.searchTerm === undefined && includeAllNetworks === undefined) {
      const query: Record<string, string> = {};
      if (q.limit !== undefined) query.limit = String(q.limit);
      if (q.since !== undefined) query.since = q.since;
      return { body: await app.federation.client.request<JsonObject>(server, 'GET', path, { query }) };
    }
    const body: JsonObject = {};
    if (q.limit !== undefined) body.limit = q.limit;
    if (q.since !== undefined) body.since = q.since;
    if (q.searchTerm !== undefined) body.filter = { generic_search_term: q.searchTerm };
    if (includeAllNetworks !== undefined) body.include_all_networks = includeAllNetworks;
    return { body: await app.federation.client.request<JsonObject>(server, 'POST', path, { body }) };
  } catch (err) {
    if (err instanceof FederationError && err.status >= 400 && err.status < 500) {
      throw new MatrixError(err.status, err.errcode, err.error);
    }
    app.logger.info({ server, err: err instanceof Error ? err.message : String(err) }, 'remote room directory unavailable');
    throw new MatrixError(502, 'M_UNKNOWN', `Could not get the room directory of ${server}`);
  }
}

export const getPublicRooms = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/publicRooms',
  auth: 'optional',
  query: z.object({ limit: z.coerce.number().int().min(0).optional(), since: z.string().optional(), server: z.string().optional() }).loose(),
  handler: ({ app, query }) => list(app, { limit: query.limit, since: query.since }, query.server),
});

export const postPublicRooms = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/publicRooms',
  auth: 'required',
  query: z.object({ server: z.string().optional() }).loose(),
  body: publicRoomsFilterBody,
  handler: ({ app, query, body }) =>
    list(app, { limit: body.limit, since: body.since, searchTerm: body.filter?.generic_search_term }, query.server, body.include_all_networks),
});
