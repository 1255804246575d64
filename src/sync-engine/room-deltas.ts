/**
 * The part of an incremental sync's room section that is the same for every member who stayed
 * joined throughout the gap: the timeline window, `limited`, `prev_batch`, and the state that
 * changed before the window. One message wakes every member of its room with the same
 * (since, current) pair, so this is built (read, visibility-checked, formatted) once per
 * (room, from, upTo, filter) and each member's section only adds what is theirs: their own events'
 * `transaction_id`, lazily loaded members, unread counts, the summary's heroes.
 *
 * Why staying joined is enough: history visibility allows every event to a user whose membership
 * was `join` around it, so such a member sees exactly the events that are neither rejected, outliers
 * nor soft-failed. The caller guarantees it: the room had no member event in (from, upTo] and the
 * user was joined at `upTo`.
 */
import { memberStateKey, type StateMap } from '../core/pdu.js';
import type { Viewer } from '../room-engine/room-reads.js';
import type { ClientEvent } from '../rooms/client-event.js';
import type { StoredEvent } from '../storage/event-store.js';
import { eventPasses, type Filter } from '../sync/filter.js';
import { formatTopoToken, topoBefore } from '../sync/sync-token.js';
import { type MaybePromise, Settling } from './maybe-promise.js';
import type { RoomHistory } from './room-history.js';
import { type RoomSnapshot, recentSince, stateAtFromSnapshot, unredactedIn } from './room-snapshots.js';

const MAX_DELTAS = 256;
const MAX_SHAPES = 10_000;

export interface RoomDelta {
  /** The window, oldest first, and whether more events precede it in the gap. */
  events: readonly StoredEvent[];
  limited: boolean;
  /** The window's events formatted for a member who did not send them. */
  timeline: readonly ClientEvent[];
  prevBatch: string;
  /** The state before the window (the lazily loaded members are looked up in it). */
  startState: StateMap;
  /** Changed state before the window that passes the state filter, in stream order: all of it, and without member events. */
  state: readonly FormattedState[];
  stateWithoutMembers: readonly FormattedState[];
  /** The distinct senders of the window's events. */
  senders: readonly string[];
  /** Member events formatted for lazy loading, by event ID (filled on demand). */
  members: Map<string, Promise<FormattedState | undefined>>;
  filter: Filter;
  /** The shared timeline and state as JSON, made when first asked for (see timelineText, stateText). */
  texts: { timeline?: string; state?: string; stateWithoutMembers?: string };
}

export interface FormattedState {
  streamOrdering: number;
  event: ClientEvent;
}

export interface DeltaRequest {
  snap: RoomSnapshot;
  from: number;
  filter: Filter;
  limit: number;
}

export class RoomDeltas {
  /** Each delta being built, and once built (see maybe-promise.ts) the delta itself. */
  private readonly deltas = new Map<string, Settling<RoomDelta>>();
  /** Filters are parsed per request; their shape is what decides sharing: each distinct shape gets a number. */
  private readonly filterKeys = new WeakMap<Filter, number>();
  private readonly shapes = new Map<string, number>();
  private nextShape = 0;

  constructor(private readonly history: RoomHistory) {}

  get(req: DeltaRequest): MaybePromise<RoomDelta> {
    const key = `${req.snap.roomId}\u0000${req.from}\u0000${req.snap.position}\u0000${req.limit}\u0000${this.filterKey(req.filter)}`;
    let entry = this.deltas.get(key);
    if (!entry) {
      entry = new Settling(this.build(req), () => this.deltas.delete(key));
      this.deltas.set(key, entry);
      if (this.deltas.size > MAX_DELTAS) this.deltas.delete(this.deltas.keys().next().value as string);
    }
    return entry.get();
  }

  /** The delta's timeline as `viewer` gets it: their own events carry their transaction ID. */
  timelineFor(delta: RoomDelta, viewer: Viewer): MaybePromise<readonly ClientEvent[]> {
    if (viewer.deviceId === undefined || !delta.senders.includes(viewer.userId)) return delta.timeline;
    return this.ownTimeline(delta, viewer);
  }

  private async ownTimeline(delta: RoomDelta, viewer: Viewer): Promise<readonly ClientEvent[]> {
    const out = [...delta.timeline];
    for (let i = 0; i < delta.events.length; i++) {
      const e = delta.events[i];
      if (e.event.sender !== viewer.userId) continue;
      [out[i]] = await this.history.formatEvents([e], viewer, true);
    }
    return out;
  }

  /** A section's `timeline` as JSON: the shared text when `events` is the delta's own timeline. */
  timelineText(delta: RoomDelta, events: readonly ClientEvent[]): string {
    if (events === delta.timeline && delta.texts.timeline !== undefined) return delta.texts.timeline;
    const text = JSON.stringify({ events, limited: delta.limited, prev_batch: delta.prevBatch });
    if (events === delta.timeline) delta.texts.timeline = text;
    return text;
  }

  /** A section's `state` as JSON: the shared text when `state` is one of the delta's own lists. */
  stateText(delta: RoomDelta, state: readonly FormattedState[]): string {
    const which = state === delta.state ? 'state' : state === delta.stateWithoutMembers ? 'stateWithoutMembers' : undefined;
    const known = which && delta.texts[which];
    if (known !== undefined) return known;
    const text = JSON.stringify({ events: state.map((s) => s.event) });
    if (which) delta.texts[which] = text;
    return text;
  }

  /** A member event from the delta's start state, formatted once for every member woken with it. */
  member(delta: RoomDelta, userId: string): Promise<FormattedState | undefined> {
    const id = delta.startState.get(memberStateKey(userId));
    if (id === undefined) return Promise.resolve(undefined);
    let m = delta.members.get(id);
    if (!m) {
      m = this.formatState([id], delta.filter).then((xs) => xs[0]);
      delta.members.set(id, m);
    }
    return m;
  }

  private filterKey(filter: Filter): number {
    let key = this.filterKeys.get(filter);
    if (key === undefined) {
      const shape = JSON.stringify([filter.room.timeline, filter.room.state]);
      key = this.shapes.get(shape);
      if (key === undefined) {
        // Numbers are never reused, so forgetting shapes (to stay bounded) only costs a later rebuild.
        if (this.shapes.size >= MAX_SHAPES) this.shapes.clear();
        key = this.nextShape++;
        this.shapes.set(shape, key);
      }
      this.filterKeys.set(filter, key);
    }
    return key;
  }

  private async build({ snap, from, filter, limit }: DeltaRequest): Promise<RoomDelta> {
    const { roomId, position: upTo } = snap;
    // A member joined throughout sees every event that is neither rejected, an outlier nor soft-failed.
    const passes = (e: StoredEvent) => e.rejectedReason === undefined && !e.outlier && !e.softFailed && eventPasses(filter.room.timeline, e.event);
    const known = recentSince(snap, from)?.map((r) => r.stored);
    const { events, more } = await this.history.scanWindow(roomId, from, upTo, limit, passes, known);
    const unredacted = unredactedIn(snap);
    const timeline = await this.history.formatEvents(events, { userId: '' }, true, unredacted);
    const store = this.history.store;
    const first = events[0];
    const startState = first ? ((await store.getStateBefore(first.event.eventId)) ?? new Map()) : await this.history.stateAtStream(roomId, upTo);
    const sinceState = stateAtFromSnapshot(snap, from) ?? (await this.history.stateAtStream(roomId, from));
    const changed: string[] = [];
    // State maps are shared cached objects: the same object is the same state.
    if (startState !== sinceState) for (const [k, id] of startState) if (sinceState.get(k) !== id) changed.push(id);
    const state = await this.formatState(changed, filter);
    const prevBatch = first
      ? topoBefore({ depth: first.event.depth, streamOrdering: first.streamOrdering })
      : await this.history.endPosition(roomId, upTo);
    return {
      events,
      limited: more,
      timeline,
      prevBatch: formatTopoToken(prevBatch),
      startState,
      state,
      stateWithoutMembers: state.filter((s) => s.event.type !== 'm.room.member'),
      senders: [...new Set(events.map((e) => e.event.sender))],
      members: new Map(),
      filter,
      texts: {},
    };
  }

  private async formatState(ids: readonly string[], filter: Filter): Promise<FormattedState[]> {
    const events = await this.history.stateEvents(ids, filter.room.state);
    const formatted = await this.history.formatEvents(events, { userId: '' }, true);
    return events.map((e, i) => ({ streamOrdering: e.streamOrdering, event: formatted[i] }));
  }
}
