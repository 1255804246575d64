/**
 * Per-room data shared by every /sync built at the same events position. One event wakes the long
 * poll of every member of its room at once; what those syncs need about the room beyond their own
 * view (member counts and heroes for the summary, the room state, the new events with their
 * redaction state for incremental unread counts) is then read once, not once per member.
 *
 * A room's snapshot follows the events position forward: a newer position extends the previous
 * snapshot with the events in between, re-reading the members only when the room state changed.
 * The last few positions are kept; a build at an older position than those gets a one-off
 * snapshot that is not kept.
 */
import { memberStateKey, type StateMap } from '../core/pdu.js';
import { type MaybePromise, Settling } from './maybe-promise.js';
import type { EventStore, MembershipRecord, StoredEvent } from '../storage/event-store.js';

/** How many of the newest events a snapshot keeps for incremental unread counts. */
const RECENT_LIMIT = 50;
const MAX_ROOMS = 2000;
/**
 * Snapshots kept per room: a build that read the events position just before a newer event moved
 * the room on (syncs woken by one message still running when the next arrives) still finds its
 * snapshot, with the recent events its unread counts continue from, instead of a one-off without them.
 */
const KEPT_PER_ROOM = 4;
const MAX_HEROES = 5;

export interface RecentEvent {
  stored: StoredEvent;
  redacted: boolean;
}

export interface RoomSnapshot {
  roomId: string;
  /** The events position the snapshot describes. */
  position: number;
  /** The room's newest timeline events up to `position`, newest first (at most RECENT_LIMIT). */
  recent: readonly RecentEvent[];
  /** `recent` holds every timeline event of the room in (coversFrom, position]. */
  coversFrom: number;
  /** The room state after its latest event at `position` (a shared cached map: do not modify). */
  state: StateMap;
  /** The snapshot this one extended, when every event in between is in `recent`. */
  previous?: { position: number; state: StateMap };
  joinedCount: number;
  invitedCount: number;
  /** The room has neither a name nor a canonical alias: the summary names heroes. */
  needsHeroes: boolean;
  /** The first members (user IDs) in stream order: joined or invited ones, and all of them. */
  presentFirst: readonly string[];
  allFirst: readonly string[];
}

/** Up to five other members, joined or invited first, else those who left, by stream order. */
export function heroesOf(snap: RoomSnapshot, userId: string): string[] {
  const present = snap.presentFirst.filter((u) => u !== userId);
  return (present.length > 0 ? present : snap.allFirst.filter((u) => u !== userId)).slice(0, MAX_HEROES);
}

/** The room state at an events position at or before the snapshot's, if the snapshot knows it. */
export function stateAtFromSnapshot(snap: RoomSnapshot, position: number): StateMap | undefined {
  if (position === snap.position) return snap.state;
  const prev = snap.previous;
  if (!prev || position < prev.position || position > snap.position) return undefined;
  // The state at `position` is the previous one unless an event in (prev.position, position] changed it.
  return snap.recent.some((r) => r.stored.streamOrdering > prev.position && r.stored.streamOrdering <= position) ? undefined : prev.state;
}

const unredactedSets = new WeakMap<RoomSnapshot, Set<string>>();

/** The IDs of the snapshot's recent events that were not redacted (as of the snapshot). */
export function unredactedIn(snap: RoomSnapshot): ReadonlySet<string> {
  let set = unredactedSets.get(snap);
  if (!set) {
    set = new Set(snap.recent.filter((r) => !r.redacted).map((r) => r.stored.event.eventId));
    unredactedSets.set(snap, set);
  }
  return set;
}

/** The recent events in (fromExclusive, snap.position], newest first; undefined if the snapshot does not cover them all. */
export function recentSince(snap: RoomSnapshot, fromExclusive: number): RecentEvent[] | undefined {
  if (fromExclusive < snap.coversFrom) return undefined;
  const out: RecentEvent[] = [];
  for (const r of snap.recent) {
    if (r.stored.streamOrdering <= fromExclusive) break;
    out.push(r);
  }
  return out;
}

interface Entry {
  position: number;
  snapshot: Settling<RoomSnapshot>;
}

export class RoomSnapshots {
  /** Per room its latest snapshots, oldest first (see KEPT_PER_ROOM). */
  private readonly rooms = new Map<string, Entry[]>();
  private lastTouched: string | undefined;

  constructor(private readonly store: EventStore) {}

  get(roomId: string, position: number): MaybePromise<RoomSnapshot> {
    const entries = this.rooms.get(roomId) ?? [];
    const hit = entries.find((e) => e.position === position);
    if (hit) {
      // Every member woken by one event asks for the same room in a row: touch it once.
      if (this.lastTouched !== roomId) this.touch(roomId, entries);
      return hit.snapshot.get();
    }
    const latest = entries.at(-1);
    if (latest && latest.position > position) return this.load(roomId, position);
    const base = latest?.snapshot.promise;
    const snapshot = base
      ? base.then(
          (b) => this.extend(b, position),
          () => this.load(roomId, position),
        )
      : this.load(roomId, position);
    const next: Entry = {
      position,
      snapshot: new Settling(snapshot, () => {
        const now = this.rooms.get(roomId);
        if (now?.includes(next)) this.rooms.set(roomId, now.filter((e) => e !== next));
      }),
    };
    const kept = [...entries.slice(1 - KEPT_PER_ROOM), next];
    this.touch(roomId, kept);
    return snapshot;
  }

  private touch(roomId: string, entries: Entry[]): void {
    this.lastTouched = roomId;
    this.rooms.delete(roomId);
    this.rooms.set(roomId, entries);
    if (this.rooms.size > MAX_ROOMS) this.rooms.delete(this.rooms.keys().next().value as string);
  }

  /** A new snapshot: its recent list starts empty (it only collects events from here on). */
  private async load(roomId: string, position: number): Promise<RoomSnapshot> {
    const [latest] = await this.store.getRoomEventsByStream(roomId, 0, position, 1, 'b');
    const state = (latest && (await this.store.getStateAfter(latest.event.eventId))) ?? new Map<string, string>();
    return { roomId, position, recent: [], coversFrom: position, state, ...(await this.members(roomId)) };
  }

  private async extend(base: RoomSnapshot, position: number): Promise<RoomSnapshot> {
    const { roomId } = base;
    const fresh = await this.store.getRoomEventsByStream(roomId, base.position, position, RECENT_LIMIT, 'b');
    if (fresh.length === 0) return { ...base, position };
    // Redactions among the new events may redact earlier recent events: re-check those too.
    const targets = new Set<string>();
    for (const e of fresh) if (e.event.type === 'm.room.redaction' && e.event.redacts !== undefined) targets.add(e.event.redacts);
    const redacted = await this.store.getRedactedAmong([...fresh.map((e) => e.event.eventId), ...targets]);
    const recent: RecentEvent[] = fresh.map((stored) => ({ stored, redacted: redacted.has(stored.event.eventId) }));
    for (const r of base.recent) {
      if (recent.length >= RECENT_LIMIT) break;
      const id = r.stored.event.eventId;
      recent.push(targets.has(id) && redacted.has(id) ? { stored: r.stored, redacted: true } : r);
    }
    const full = recent.length >= RECENT_LIMIT;
    const coversFrom = full ? recent[recent.length - 1].stored.streamOrdering - 1 : base.coversFrom;
    const state = (await this.store.getStateAfter(fresh[0].event.eventId)) ?? base.state;
    // State maps are shared cached objects: the same map means the state (and so the members) did not change.
    const members = state === base.state ? base : await this.members(roomId);
    return {
      roomId,
      position,
      recent,
      coversFrom,
      state,
      previous: fresh.length < RECENT_LIMIT ? { position: base.position, state: base.state } : undefined,
      joinedCount: members.joinedCount,
      invitedCount: members.invitedCount,
      needsHeroes: members.needsHeroes,
      presentFirst: members.presentFirst,
      allFirst: members.allFirst,
    };
  }

  private async members(roomId: string) {
    const all = [...(await this.store.getRoomMembers(roomId))].sort((a, b) => a.streamOrdering - b.streamOrdering);
    const present = all.filter((m) => m.membership === 'join' || m.membership === 'invite');
    const name = await this.store.getCurrentStateEvent(roomId, 'm.room.name', '');
    const alias = await this.store.getCurrentStateEvent(roomId, 'm.room.canonical_alias', '');
    const named = typeof name?.event.content.name === 'string' && name.event.content.name !== '';
    const aliased = typeof alias?.event.content.alias === 'string' && alias.event.content.alias !== '';
    const first = (ms: MembershipRecord[]) => ms.slice(0, MAX_HEROES + 1).map((m) => m.userId);
    return {
      joinedCount: present.filter((m) => m.membership === 'join').length,
      invitedCount: present.filter((m) => m.membership === 'invite').length,
      needsHeroes: !named && !aliased,
      presentFirst: first(present),
      allFirst: first(all),
    };
  }
}

/** A user's display name in the snapshot's room state. */
export async function displayNameIn(store: EventStore, snap: RoomSnapshot, userId: string): Promise<string | undefined> {
  const id = snap.state.get(memberStateKey(userId));
  const ev = id === undefined ? undefined : await store.getEvent(id);
  const name = ev?.event.content.displayname;
  return typeof name === 'string' ? name : undefined;
}
