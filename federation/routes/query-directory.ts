/** `query/directory?room_alias=` (served by query.ts): a local alias, with servers in the room. */
import { z } from 'zod';
import type { AppContext } from '../../src/app-context.js';
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import { notFound } from '../../src/http/errors.js';

export const directoryQuery = z.object({ room_alias: z.string() }).loose();

export async function answerDirectoryQuery(app: AppContext, query: z.infer<typeof directoryQuery>): Promise<JsonObject> {
  const mapped = domainOf(query.room_alias) === app.serverName ? await app.storage.roomDirectory.getAlias(query.room_alias) : undefined;
  if (!mapped) throw notFound(`Room alias ${query.room_alias} not found`);
  const members = await app.storage.events.getRoomMembers(mapped.roomId, ['join']);
  const servers = new Set([app.serverName, ...members.map((m) => domainOf(m.userId))]);
  return { room_id: mapped.roomId, servers: [...servers] };
}
