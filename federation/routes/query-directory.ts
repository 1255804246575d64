/** `GET /_matrix/federation/v1/query/directory?room_alias=`: a local alias, with servers in the room. */
import { z } from 'zod';
import { domainOf } from '../../src/core/pdu.js';
import { notFound } from '../../src/http/errors.js';
import { defineFederationRoute } from '../http/federation-route.js';

export const queryDirectory = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/query/directory',
  query: z.object({ room_alias: z.string() }).loose(),
  handler: async ({ app, query }) => {
    const mapped = domainOf(query.room_alias) === app.serverName ? await app.storage.roomDirectory.getAlias(query.room_alias) : undefined;
    if (!mapped) throw notFound(`Room alias ${query.room_alias} not found`);
    const members = await app.storage.events.getRoomMembers(mapped.roomId, ['join']);
    const servers = new Set([app.serverName, ...members.map((m) => domainOf(m.userId))]);
    return { body: { room_id: mapped.roomId, servers: [...servers] } };
  },
});
