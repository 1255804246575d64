/**
 * Room reads served to other servers: /event, /state, /state_ids, /event_auth, /backfill,
 * /get_missing_events, /timestamp_to_event. The requesting server must be in the room, and it
 * sees what any of its users may see: an event whose history visibility hides it from all of
 * them is served redacted (backfill, /event — the graph stays whole) or left out
 * (get_missing_events), and /state of such an event is refused.
 */
import type { JsonObject } from '../../src/core/json.js';
import { domainOf, type Pdu, type StateMap, stateKeyOf } from '../../src/core/pdu.js';
import { redactPdu } from '../../src/core/redaction.js';
import { forbidden, notFound } from '../../src/http/errors.js';
import { getRoomVersion, type RoomVersion } from '../../src/rooms/versions.js';
import { historyVisibilityOf } from '../../src/rooms/visibility.js';
import type { StoredEvent } from '../../src/storage/event-store.js';
import type { RoomFederationDeps } from './room-federation-deps.js';

const MAX_BACKFILL = 100;
const MAX_MISSING = 100;

export class ServedReads {
  constructor(private readonly deps: RoomFederationDeps) {}

  private get store() {
    return this.deps.storage.events;
  }

  /** The room's version, if `origin` has a joined user in it (or the room is world readable). */
  async requireServerInRoom(origin: string, roomId: string): Promise<RoomVersion> {
    const room = await this.store.getRoom(roomId);
    const version = room && getRoomVersion(room.version);
    if (!room || !version) throw notFound(`Unknown room ${roomId}`);
    if (await this.store.hasJoinedMemberOn(roomId, origin)) return version;
    const hv = await this.store.getCurrentStateEvent(roomId, 'm.room.history_visibility', '');
    if (historyVisibilityOf(hv?.event.content) === 'world_readable') return version;
    throw forbidden(`${origin} is not in room ${roomId}`);
  }

  /** Whether any user of `server` may see the event (history visibility at the event). */
  async serverCanSee(server: string, stored: StoredEvent): Promise<boolean> {
    const state = await this.store.getStateBefore(stored.event.eventId);
    if (!state) return true;
    const hvId = state.get(stateKeyOf('m.room.history_visibility', ''));
    const hv = hvId === undefined ? undefined : await this.store.getEvent(hvId);
    const visibility = historyVisibilityOf(hv?.event.content);
    if (visibility === 'world_readable' || visibility === 'shared') return true;
    const wanted = visibility === 'invited' ? ['join', 'invite'] : ['join'];
    const ids: string[] = [];
    for (const [key, id] of state) {
      if (key.startsWith('m.room.member\u0000') && domainOf(key.slice('m.room.member\u0000'.length)) === server) ids.push(id);
    }
    // A server's own members' events are always visible to it (e.g. its user's join).
    if (domainOf(stored.event.sender) === server) return true;
    const members = await this.store.getEvents(ids);
    for (const m of members.values()) {
      const membership = m.event.content.membership;
      if (typeof membership === 'string' && wanted.includes(membership)) return true;
    }
    return false;
  }

  private async forServer(origin: string, stored: StoredEvent, version: RoomVersion): Promise<Pdu> {
    return (await this.serverCanSee(origin, stored)) ? stored.event.pdu : redactPdu(stored.event.pdu, version);
  }

  private async requireEvent(roomId: string, eventId: string): Promise<StoredEvent> {
    const stored = await this.store.getEvent(eventId);
    if (!stored || stored.event.roomId !== roomId || stored.rejectedReason !== undefined) throw notFound(`Unknown event ${eventId}`);
    return stored;
  }

  async event(origin: string, eventId: string): Promise<JsonObject> {
    const stored = await this.store.getEvent(eventId);
    if (!stored || stored.rejectedReason !== undefined) throw notFound(`Unknown event ${eventId}`);
    const version = await this.requireServerInRoom(origin, stored.event.roomId);
    return this.envelope([await this.forServer(origin, stored, version)]);
  }

  private async stateAt(origin: string, roomId: string, eventId: string): Promise<{ state: StateMap; chain: StoredEvent[] }> {
    await this.requireServerInRoom(origin, roomId);
    const stored = await this.requireEvent(roomId, eventId);
    if (!(await this.serverCanSee(origin, stored))) throw forbidden(`${origin} may not see ${eventId}`);
    const state = await this.store.getStateBefore(eventId);
    if (!state) throw notFound(`State at ${eventId} is not known`);
    return { state, chain: await authChain(this.deps, roomId, [...state.values()]) };
  }

  /** The room state before the event (what the requester needs to accept the event itself). */
  async state(origin: string, roomId: string, eventId: string): Promise<JsonObject> {
    const { state, chain } = await this.stateAt(origin, roomId, eventId);
    const events = await this.store.getEvents([...state.values()]);
    return {
      pdus: [...events.values()].map((e) => e.event.pdu) as unknown as JsonObject[],
      auth_chain: chain.map((e) => e.event.pdu) as unknown as JsonObject[],
    };
  }

  async stateIds(origin: string, roomId: string, eventId: string): Promise<JsonObject> {
    const { state, chain } = await this.stateAt(origin, roomId, eventId);
    return { pdu_ids: [...state.values()], auth_chain_ids: chain.map((e) => e.event.eventId) };
  }

  async eventAuth(origin: string, roomId: string, eventId: string): Promise<JsonObject> {
    await this.requireServerInRoom(origin, roomId);
    await this.requireEvent(roomId, eventId);
    const chain = await authChain(this.deps, roomId, [eventId]);
    return { auth_chain: chain.map((e) => e.event.pdu) as unknown as JsonObject[] };
  }

  /** Up to `limit` events from `from` backwards along prev_events, newest (deepest) first. */
  async backfill(origin: string, roomId: string, from: readonly string[], limit: number): Promise<JsonObject> {
    const version = await this.requireServerInRoom(origin, roomId);
    const max = Math.max(0, Math.min(limit, MAX_BACKFILL));
    const seen = new Set<string>();
    const found: StoredEvent[] = [];
    let frontier = [...new Set(from)];
    while (frontier.length > 0 && found.length < max) {
      const batch = await this.store.getEvents(frontier.filter((id) => !seen.has(id)));
      for (const id of frontier) seen.add(id);
      const next: string[] = [];
      for (const e of [...batch.values()].sort((a, b) => b.event.depth - a.event.depth)) {
        if (e.event.roomId !== roomId || e.outlier || e.rejectedReason !== undefined) continue;
        if (found.length >= max) break;
        found.push(e);
        for (const p of e.event.prevEventIds) if (!seen.has(p)) next.push(p);
      }
      frontier = next;
    }
    const pdus: Pdu[] = [];
    for (const e of found) pdus.push(await this.forServer(origin, e, version));
    return this.envelope(pdus);
  }

  /** Events between `earliest` (known to the requester) and `latest`, oldest first. */
  async missingEvents(
    origin: string,
    roomId: string,
    req: { earliest_events: readonly string[]; latest_events: readonly string[]; limit?: number; min_depth?: number },
  ): Promise<JsonObject> {
    await this.requireServerInRoom(origin, roomId);
    const limit = Math.max(0, Math.min(req.limit ?? 10, MAX_MISSING));
    const minDepth = req.min_depth ?? 0;
    const seen = new Set<string>([...req.earliest_events, ...req.latest_events]);
    const found: StoredEvent[] = [];
    const latest = await this.store.getEvents(req.latest_events);
    let frontier = [...latest.values()].flatMap((e) => (e.event.roomId === roomId ? [...e.event.prevEventIds] : []));
    while (frontier.length > 0 && found.length < limit) {
      const ids = frontier.filter((id) => !seen.has(id));
      for (const id of ids) seen.add(id);
      const batch = await this.store.getEvents(ids);
      const next: string[] = [];
      for (const e of [...batch.values()].sort((a, b) => b.event.depth - a.event.depth)) {
        if (e.event.roomId !== roomId || e.outlier || e.rejectedReason !== undefined || e.event.depth < minDepth) continue;
        if (found.length >= limit) break;
        if (!(await this.serverCanSee(origin, e))) continue;
        found.push(e);
        next.push(...e.event.prevEventIds);
      }
      frontier = next;
    }
    found.sort((a, b) => a.event.depth - b.event.depth || a.streamOrdering - b.streamOrdering);
    return { events: found.map((e) => e.event.pdu) as unknown as JsonObject[] };
  }

  async timestampToEvent(origin: string, roomId: string, ts: number, dir: 'f' | 'b'): Promise<JsonObject> {
    await this.requireServerInRoom(origin, roomId);
    const [hit] = await this.store.getRoomEventsByTimestamp(roomId, ts, dir, 1);
    if (!hit) throw notFound(`No event ${dir === 'f' ? 'after' : 'before'} ${ts} in ${roomId}`);
    return { event_id: hit.event.eventId, origin_server_ts: hit.event.originServerTs };
  }

  private envelope(pdus: Pdu[]): JsonObject {
    return { origin: this.deps.serverName, origin_server_ts: this.deps.now(), pdus: pdus as unknown as JsonObject[] };
  }
}

/**
 * The auth chain of `eventIds`. From v12 the create event is implied rather than cited, so it is
 * added: whoever checks the chain needs it.
 */
export async function authChain(deps: RoomFederationDeps, roomId: string, eventIds: readonly string[]): Promise<StoredEvent[]> {
  const chain = await deps.storage.events.getAuthChain(eventIds);
  const room = await deps.storage.events.getRoom(roomId);
  const version = room && getRoomVersion(room.version);
  if (version?.roomIdFromCreateEvent) {
    const createId = `$${roomId.slice(1)}`;
    if (!chain.some((e) => e.event.eventId === createId) && !eventIds.includes(createId)) {
      const create = await deps.storage.events.getEvent(createId);
      if (create) chain.unshift(create);
    }
  }
  return chain;
}
