/**
 * Backfill on demand: when a reader pages back to the start of what this server has of a room it
 * joined over federation, the events before that point are asked for with `/backfill` from the
 * other servers in the room. Each returned event goes through the event pipeline as a historical
 * event (checked like any remote event, placed in the graph with its state, no effect on current
 * state or forward extremities). The oldest events of a batch sit on a gap: their state is
 * fetched with `/state_ids` (missing events stored as outliers first) and used as the state
 * before them.
 */
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import { domainOf, type RoomEvent, type StateMap, stateKeyOf } from '../../src/core/pdu.js';
import { getRoomVersion, type RoomVersion } from '../../src/rooms/versions.js';
import { fetchOutliers } from '../inbound/fetch-outliers.js';
import type { FederationRequester, RoomFederationDeps } from './room-federation-deps.js';
import { seg } from './room-federation-deps.js';

/** How many of the room's earliest known events are examined for unknown prev events. */
const EARLIEST_SCAN = 20;
const MAX_BACKFILL_REQUEST = 100;
/** After nobody could give anything from the same backward extremities, how long before asking again. */
const FRUITLESS_RETRY_MS = 60_000;

export class HistoryBackfiller {
  /** One backfill per room at a time; concurrent readers wait for the same one. */
  private readonly running = new Map<string, Promise<number>>();
  /** Room → the backward extremities that gave nothing, and when (readers paging at the start would ask every time). */
  private readonly fruitless = new Map<string, { from: string; at: number }>();

  constructor(
    private readonly deps: RoomFederationDeps,
    private readonly client: FederationRequester,
  ) {}

  private get store() {
    return this.deps.storage.events;
  }

  /**
   * Fetches up to `limit` events from before the earliest events this server has of the room.
   * Returns how many entered the timeline (0: nothing earlier to get, or nobody could give it).
   */
  backfill(roomId: string, limit: number): Promise<number> {
    let p = this.running.get(roomId);
    if (!p) {
      p = this.run(roomId, limit).finally(() => this.running.delete(roomId));
      this.running.set(roomId, p);
    }
    return p;
  }

  /** Prev events of the room's earliest timeline events that have no place in the graph here (the backward extremities). */
  async backwardExtremities(roomId: string): Promise<string[]> {
    const earliest = await this.store.getRoomEventsByTopology(roomId, undefined, 'f', EARLIEST_SCAN);
    const out = new Set<string>();
    for (const e of earliest) {
      for (const p of e.event.prevEventIds) if (!out.has(p) && !(await this.store.getEventStateGroups(p))) out.add(p);
    }
    return [...out];
  }

  private async run(roomId: string, limit: number): Promise<number> {
    const room = await this.store.getRoom(roomId);
    const version = room && getRoomVersion(room.version);
    if (!version) return 0;
    const from = await this.backwardExtremities(roomId);
    if (from.length === 0) return 0;
    const key = [...from].sort().join(' ');
    const last = this.fruitless.get(roomId);
    if (last && last.from === key && this.deps.now() - last.at < FRUITLESS_RETRY_MS) return 0;
    const members = await this.store.getRoomMembers(roomId, ['join']);
    const servers = [...new Set(members.map((m) => domainOf(m.userId)))].filter((s) => s !== this.deps.serverName);
    for (const server of servers) {
      let pdus: unknown[];
      try {
        const res = await this.client.request<{ pdus?: unknown }>(server, 'GET', `/_matrix/federation/v1/backfill/${seg(roomId)}`, {
          query: { v: from, limit: String(Math.max(1, Math.min(limit, MAX_BACKFILL_REQUEST))) },
        });
        pdus = Array.isArray(res.pdus) ? res.pdus : [];
      } catch (err) {
        this.deps.logger.info({ roomId, server, err: err instanceof Error ? err.message : String(err) }, 'backfill request failed; trying the next server');
        continue;
      }
      const added = await this.importBatch(server, roomId, version, pdus);
      this.deps.logger.info({ roomId, server, received: pdus.length, added }, 'backfilled room history');
      if (added > 0) {
        this.fruitless.delete(roomId);
        return added;
      }
    }
    this.fruitless.set(roomId, { from: key, at: this.deps.now() });
    return 0;
  }

  /** Accepts a backfill response oldest first; returns how many events entered the timeline. */
  private async importBatch(server: string, roomId: string, version: RoomVersion, pdus: readonly unknown[]): Promise<number> {
    const batch: Array<{ raw: unknown; event: RoomEvent }> = [];
    for (const raw of pdus) {
      const v = validatePdu(raw, version);
      if (!v.ok) {
        this.deps.logger.warn({ roomId, server, reason: v.reason }, 'backfilled PDU dropped');
        continue;
      }
      const event = toRoomEvent(v.value, version);
      if (event.roomId === roomId) batch.push({ raw, event });
    }
    batch.sort((a, b) => a.event.depth - b.event.depth);
    let added = 0;
    for (const { raw, event } of batch) {
      const known = await this.store.getEvent(event.eventId);
      if (known && !known.outlier) continue;
      const missing: string[] = [];
      for (const p of event.prevEventIds) if (!(await this.store.getEventStateGroups(p))) missing.push(p);
      let stateBefore: { map: StateMap; group: undefined } | undefined;
      if (missing.length > 0) {
        const state = await this.stateBefore(server, event, version);
        if (!state) continue;
        stateBefore = { map: state, group: undefined };
      }
      const outcome = await this.deps.rooms.pipeline.accept(raw, version, { origin: 'remote', backfilled: true, stateBefore });
      if (outcome.status === 'persisted') added++;
      else if (outcome.status === 'rejected' || outcome.status === 'invalid') {
        this.deps.logger.warn({ roomId, server, eventId: event.eventId, reason: outcome.reason }, 'backfilled event refused');
      }
    }
    return added;
  }

  /** The state before an event at a gap, from `/state_ids` on `server` (events not known yet fetched as outliers). */
  private async stateBefore(server: string, event: RoomEvent, version: RoomVersion): Promise<StateMap | undefined> {
    let ids: { pdu_ids?: unknown; auth_chain_ids?: unknown };
    try {
      ids = await this.client.request(server, 'GET', `/_matrix/federation/v1/state_ids/${seg(event.roomId)}`, { query: { event_id: event.eventId } });
    } catch (err) {
      this.deps.logger.info({ server, eventId: event.eventId, err: err instanceof Error ? err.message : String(err) }, 'no state for a backfilled event');
      return undefined;
    }
    const stateIds = strings(ids.pdu_ids);
    await fetchOutliers(
      { events: this.store, pipeline: this.deps.rooms.pipeline, client: this.client, logger: this.deps.logger },
      server,
      [...strings(ids.auth_chain_ids), ...stateIds],
      version,
    );
    const known = await this.store.getEvents(stateIds);
    const map = new Map<string, string>();
    for (const id of stateIds) {
      const e = known.get(id);
      if (e && e.rejectedReason === undefined && e.event.stateKey !== undefined && e.event.roomId === event.roomId) {
        map.set(stateKeyOf(e.event.type, e.event.stateKey), id);
      }
    }
    return map;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
