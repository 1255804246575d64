/** The published room directory: GET (anyone) and POST (with a filter) /publicRooms. */
import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { stateKeyOf } from '../../core/pdu.js';
import type { AppContext } from '../../app-context.js';
import { MatrixError } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { historyVisibilityOf } from '../../rooms/visibility.js';

const DEFAULT_LIMIT = 100;

async function summary(app: AppContext, roomId: string): Promise<JsonObject> {
  const store = app.storage.events;
  const state = await store.getCurrentState(roomId);
  const wanted = ['m.room.name', 'm.room.topic', 'm.room.avatar', 'm.room.canonical_alias', 'm.room.join_rules', 'm.room.guest_access', 'm.room.history_visibility', 'm.room.create'];
  const ids = wanted.map((t) => state.get(stateKeyOf(t, ''))).filter((x): x is string => x !== undefined);
  const events = await store.getEvents(ids);
  const content = (t: string): JsonObject | undefined => {
    const id = state.get(stateKeyOf(t, ''));
    return id === undefined ? undefined : events.get(id)?.event.content;
  };
  const joined = await store.getRoomMembers(roomId, ['join']);
  const out: JsonObject = {
    room_id: roomId,
    num_joined_members: joined.length,
    world_readable: historyVisibilityOf(content('m.room.history_visibility')) === 'world_readable',
    guest_can_join: content('m.room.guest_access')?.guest_access === 'can_join',
  };
  const str = (t: string, key: string, as: string) => {
    const v = content(t)?.[key];
    if (typeof v === 'string' && v !== '') out[as] = v;
  };
  str('m.room.name', 'name', 'name');
  str('m.room.topic', 'topic', 'topic');
  str('m.room.avatar', 'url', 'avatar_url');
  str('m.room.canonical_alias', 'alias', 'canonical_alias');
  str('m.room.join_rules', 'join_rule', 'join_rule');
  str('m.room.create', 'type', 'room_type');
  return out;
}

function matches(room: JsonObject, term: string | undefined): boolean {
  if (!term) return true;
  const needle = term.toLowerCase();
  return ['name', 'topic', 'canonical_alias', 'room_id'].some((k) => {
    const v = room[k];
    return typeof v === 'string' && v.toLowerCase().includes(needle);
  });
}

async function list(app: AppContext, limit: number | undefined, since: string | undefined, term: string | undefined, server: string | undefined) {
  if (server !== undefined && server !== app.serverName) {
    throw new MatrixError(404, 'M_NOT_FOUND', 'Listing other servers\' directories needs federation, which this server does not support yet');
  }
  let offset = 0;
  if (since !== undefined) {
    const m = /^o(\d+)$/.exec(since);
    if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
    offset = Number(m[1]);
  }
  const rooms: JsonObject[] = [];
  for (const id of await app.storage.roomDirectory.listPublicRooms()) {
    const s = await summary(app, id);
    if (matches(s, term)) rooms.push(s);
  }
  // Largest rooms first, as the spec asks; room ID breaks ties so pages are stable.
  rooms.sort((a, b) => (b.num_joined_members as number) - (a.num_joined_members as number) || String(a.room_id).localeCompare(String(b.room_id)));
  const size = limit !== undefined && limit > 0 ? limit : DEFAULT_LIMIT;
  const chunk = rooms.slice(offset, offset + size);
  const body: JsonObject = { chunk, total_room_count_estimate: rooms.length };
  if (offset + size < rooms.length) body.next_batch = `o${offset + size}`;
  if (offset > 0) body.prev_batch = `o${Math.max(0, offset - size)}`;
  return { body };
}

export const getPublicRooms = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/publicRooms',
  auth: 'optional',
  query: z.object({ limit: z.coerce.number().int().min(0).optional(), since: z.string().optional(), server: z.string().optional() }).loose(),
  handler: ({ app, query }) => list(app, query.limit, query.since, undefined, query.server),
});

export const postPublicRooms = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/publicRooms',
  auth: 'required',
  query: z.object({ server: z.string().optional() }).loose(),
  body: z
    .object({
      limit: z.number().int().min(0).optional(),
      since: z.string().optional(),
      filter: z.object({ generic_search_term: z.string().optional() }).loose().optional(),
      include_all_networks: z.boolean().optional(),
      third_party_instance_id: z.string().optional(),
    })
    .loose(),
  handler: ({ app, query, body }) => list(app, body.limit, body.since, body.filter?.generic_search_term, query.server),
});
