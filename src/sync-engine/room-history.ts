/**
 * History reads shared by /sync, /messages and /context: the room state at a stream position,
 * filtered and visibility-checked timeline windows, and filtered (optionally lazy) state. Every
 * event returned has passed `RoomReads.canSee` and is formatted by `RoomReads.format`.
 */
import type { JsonObject } from '../core/json.js';
import { memberStateKey, type StateMap, splitStateKey } from '../core/pdu.js';
import type { RoomReads, Viewer } from '../room-engine/room-reads.js';
import type { ClientEvent } from '../rooms/client-event.js';
import { membershipOf } from '../rooms/membership.js';
import type { Direction, EventStore, StoredEvent } from '../storage/event-store.js';
import { eventPasses, type RoomEventFilter } from '../sync/filter.js';
import { compareTopo, type PaginationToken, type TopoPosition, topoAfter } from '../sync/sync-token.js';

/** How many events one window may look at before giving up (filters that match almost nothing). */
const MAX_SCAN = 5000;

export interface Window {
  events: StoredEvent[];
  /** More matching, visible events exist beyond the window (the "limited" / "more" signal). */
  more: boolean;
}

export class RoomHistory {
  constructor(
    readonly store: EventStore,
    readonly reads: RoomReads,
  ) {}

  /** The latest timeline event of the room at or before a stream position. */
  async latestAt(roomId: string, stream: number): Promise<StoredEvent | undefined> {
    const [last] = await this.store.getRoomEventsByStream(roomId, 0, stream, 1, 'b');
    return last;
  }

  /** The room state after every event up to `stream` (empty before the room existed). */
  async stateAtStream(roomId: string, stream: number): Promise<StateMap> {
    const last = await this.latestAt(roomId, stream);
    return (last && (await this.store.getStateAfter(last.event.eventId))) ?? new Map();
  }

  /** The latest timeline event strictly before a topological position. */
  async latestBefore(roomId: string, p: TopoPosition): Promise<StoredEvent | undefined> {
    const [last] = await this.store.getRoomEventsByTopology(roomId, { depth: p.depth, streamOrdering: p.stream }, 'b', 1);
    return last;
  }

  /**
   * A pagination token as a topological position. A sync token means "after everything the
   * client had then": the point after the room's latest event at that stream position.
   */
  async toPosition(roomId: string, token: PaginationToken): Promise<TopoPosition> {
    if (token.kind === 'topo') return token.position;
    const last = await this.latestAt(roomId, token.token.events);
    return last ? topoAfter({ depth: last.event.depth, streamOrdering: last.streamOrdering }) : { depth: 0, stream: 0 };
  }

  /** The room state at a pagination token (for /members?at=). */
  async stateAtToken(roomId: string, token: PaginationToken): Promise<StateMap> {
    if (token.kind === 'stream') return this.stateAtStream(roomId, token.token.events);
    const last = await this.latestBefore(roomId, token.position);
    return (last && (await this.store.getStateAfter(last.event.eventId))) ?? new Map();
  }

  /** The position after the room's latest event (the live end), or the very start of an empty room. */
  async endPosition(roomId: string, stream = Number.MAX_SAFE_INTEGER): Promise<TopoPosition> {
    const last = await this.latestAt(roomId, stream);
    return last ? topoAfter({ depth: last.event.depth, streamOrdering: last.streamOrdering }) : { depth: 0, stream: 0 };
  }

  /**
   * The position after the room's topologically last event: where `/messages` backwards starts by
   * default. With federation this can differ from the latest event by stream order (an event may
   * arrive after one that builds on another branch).
   */
  async topologicalEnd(roomId: string): Promise<TopoPosition> {
    const [last] = await this.store.getRoomEventsByTopology(roomId, undefined, 'b', 1);
    return last ? topoAfter({ depth: last.event.depth, streamOrdering: last.streamOrdering }) : { depth: 0, stream: 0 };
  }

  /** A user's membership in a state (undefined: none). */
  async membershipIn(state: StateMap, userId: string): Promise<string | undefined> {
    const id = state.get(memberStateKey(userId));
    const ev = id === undefined ? undefined : await this.store.getEvent(id);
    return ev && membershipOf(ev.event.content);
  }

  private async passes(viewer: string, e: StoredEvent, filter: RoomEventFilter, currentlyJoined = false): Promise<boolean> {
    return eventPasses(filter, e.event) && (await this.reads.canSee(viewer, e, currentlyJoined));
  }

  /**
   * The newest `limit` matching, visible events in the stream range (fromExclusive, toInclusive],
   * returned oldest first. `currentlyJoined`: the viewer is joined to the room now (see RoomReads.canSee).
   */
  async latestWindow(
    viewer: string,
    roomId: string,
    fromExclusive: number,
    toInclusive: number,
    filter: RoomEventFilter,
    limit: number,
    currentlyJoined = false,
    /** Every timeline event of the room in the range, newest first, when the caller has them already. */
    known?: readonly StoredEvent[],
  ): Promise<Window> {
    return this.scanWindow(roomId, fromExclusive, toInclusive, limit, (e) => this.passes(viewer, e, filter, currentlyJoined), known);
  }

  /**
   * The newest `limit` events in (fromExclusive, toInclusive] that `passes` accepts, oldest first:
   * from `known` (every timeline event of the range, newest first) when given, else read in pages.
   */
  async scanWindow(
    roomId: string,
    fromExclusive: number,
    toInclusive: number,
    limit: number,
    passes: (e: StoredEvent) => boolean | Promise<boolean>,
    known?: readonly StoredEvent[],
  ): Promise<Window> {
    const picked: StoredEvent[] = [];
    if (known) {
      for (const e of known) {
        if (!(await passes(e))) continue;
        if (picked.length === limit) return { events: picked.reverse(), more: true };
        picked.push(e);
      }
      return { events: picked.reverse(), more: false };
    }
    const batch = Math.max(limit * 2, 20);
    let upper = toInclusive;
    for (let scanned = 0; scanned < MAX_SCAN; ) {
      const page = await this.store.getRoomEventsByStream(roomId, fromExclusive, upper, batch, 'b');
      for (const e of page) {
        if (!(await passes(e))) continue;
        if (picked.length === limit) return { events: picked.reverse(), more: true };
        picked.push(e);
      }
      if (page.length < batch) return { events: picked.reverse(), more: false };
      upper = page[page.length - 1].streamOrdering - 1;
      scanned += page.length;
    }
    return { events: picked.reverse(), more: true };
  }

  /**
   * Topological paging from a position (see TopoPosition: a point just before the event with that
   * key). `b` returns events before it, newest first; `f` events at or after it, oldest first.
   * `to` bounds the walk (exclusive of events on its far side).
   */
  async topoWindow(
    viewer: string,
    roomId: string,
    from: TopoPosition | undefined,
    dir: Direction,
    filter: RoomEventFilter,
    limit: number,
    to?: TopoPosition,
  ): Promise<Window> {
    const picked: StoredEvent[] = [];
    const batch = Math.max(limit * 2, 20);
    // The store pages strictly after/before a key; "at or after P" is "strictly after (P.depth, P.stream - 1)".
    let cursor = from && (dir === 'b' ? { depth: from.depth, streamOrdering: from.stream } : { depth: from.depth, streamOrdering: from.stream - 1 });
    for (let scanned = 0; scanned < MAX_SCAN; ) {
      const page = await this.store.getRoomEventsByTopology(roomId, cursor, dir, batch);
      for (const e of page) {
        const key = { depth: e.event.depth, stream: e.streamOrdering };
        if (to && (dir === 'b' ? compareTopo(key, to) < 0 : compareTopo(key, to) >= 0)) return { events: picked, more: false };
        if (!(await this.passes(viewer, e, filter))) continue;
        if (picked.length === limit) return { events: picked, more: true };
        picked.push(e);
      }
      if (page.length < batch) return { events: picked, more: false };
      const last = page[page.length - 1];
      cursor = { depth: last.event.depth, streamOrdering: last.streamOrdering };
      scanned += page.length;
    }
    return { events: picked, more: true };
  }

  /** State events (by ID) that pass a state filter, formatted for the viewer, in stream order. */
  async formatState(ids: Iterable<string>, viewer: Viewer, filter: RoomEventFilter | undefined, omitRoomId: boolean): Promise<ClientEvent[]> {
    const out: ClientEvent[] = [];
    for (const e of await this.stateEvents(ids, filter)) out.push(await this.reads.format(e, viewer, { omitRoomId }));
    return out;
  }

  /** State events (by ID) that pass a state filter, in stream order. */
  async stateEvents(ids: Iterable<string>, filter: RoomEventFilter | undefined): Promise<StoredEvent[]> {
    const events = [...(await this.store.getEvents([...ids])).values()].sort((a, b) => a.streamOrdering - b.streamOrdering);
    return filter ? events.filter((e) => eventPasses(filter, e.event)) : events;
  }

  /** `unredacted`: events the caller knows to be unredacted (their redaction lookup is skipped). */
  async formatEvents(events: readonly StoredEvent[], viewer: Viewer, omitRoomId: boolean, unredacted?: ReadonlySet<string>): Promise<ClientEvent[]> {
    const out: ClientEvent[] = [];
    for (const e of events) out.push(await this.reads.format(e, viewer, { omitRoomId, knownUnredacted: unredacted?.has(e.event.eventId) }));
    return out;
  }

  /**
   * For /messages and /context with lazy_load_members: the member event of each sender as of the
   * event they sent (the state after it), deduplicated.
   */
  async senderMembers(events: readonly StoredEvent[]): Promise<string[]> {
    const ids = new Map<string, string>();
    for (const e of events) {
      if (ids.has(e.event.sender)) continue;
      const state = await this.store.getStateAfter(e.event.eventId);
      const id = state?.get(memberStateKey(e.event.sender));
      if (id !== undefined) ids.set(e.event.sender, id);
    }
    return [...ids.values()];
  }
}

/** The member entries of a state: user ID → member event ID. */
export function memberEntries(state: StateMap): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, id] of state) {
    const [type, stateKey] = splitStateKey(k);
    if (type === 'm.room.member') out.set(stateKey, id);
  }
  return out;
}

export function asJson(events: readonly ClientEvent[]): JsonObject[] {
  return events as unknown as JsonObject[];
}
