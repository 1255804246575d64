/**
 * The published room directory as a paged list of room summaries: what `GET/POST /publicRooms`
 * answers on the client API and, for other servers, on the federation API.
 */
import { z } from 'zod';
import type { JsonObject } from '../core/json.js';
import { stateKeyOf } from '../core/pdu.js';
import { MatrixError } from '../http/errors.js';
import { historyVisibilityOf } from '../rooms/visibility.js';
import type { EventStore, RoomDirectoryStore } from '../storage/event-store.js';

const DEFAULT_LIMIT = 100;
const SUMMARY_TYPES = [
  'm.room.name',
  'm.room.topic',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.join_rules',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.create',
];

/** The body of `POST /publicRooms`, the same on the client and the federation API. */
export const publicRoomsFilterBody = z
  .object({
    limit: z.number().int().min(0).optional(),
    since: z.string().optional(),
    filter: z.object({ generic_search_term: z.string().optional() }).loose().optional(),
    include_all_networks: z.boolean().optional(),
    third_party_instance_id: z.string().optional(),
  })
  .loose();

export interface PublicRoomsQuery {
  limit?: number;
  since?: string;
  searchTerm?: string;
}

async function summary(store: EventStore, roomId: string): Promise<JsonObject> {
  const state = await store.getCurrentState(roomId);
  const ids = SUMMARY_TYPES.map((t) => state.get(stateKeyOf(t, ''))).filter((x): x is string => x !== undefined);
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

/** One page of this server's published rooms, largest first (`next_batch`/`prev_batch` are offsets). */
export async function listPublicRooms(events: EventStore, directory: RoomDirectoryStore, q: PublicRoomsQuery): Promise<JsonObject> {
  let offset = 0;
  if (q.since !== undefined) {
    const m = /^o(\d+)$/.exec(q.since);
    if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
    offset = Number(m[1]);
  }
  const rooms: JsonObject[] = [];
  for (const id of await directory.listPublicRooms()) {
    const s = await summary(events, id);
    if (matches(s, q.searchTerm)) rooms.push(s);
  }
  // Largest rooms first, as the spec asks; room ID breaks ties so pages are stable.
  rooms.sort((a, b) => (b.num_joined_members as number) - (a.num_joined_members as number) || String(a.room_id).localeCompare(String(b.room_id)));
  const size = q.limit !== undefined && q.limit > 0 ? q.limit : DEFAULT_LIMIT;
  const chunk = rooms.slice(offset, offset + size);
  const body: JsonObject = { chunk, total_room_count_estimate: rooms.length };
  if (offset + size < rooms.length) body.next_batch = `o${offset + size}`;
  if (offset > 0) body.prev_batch = `o${Math.max(0, offset - size)}`;
  return body;
}
