/**
 * `unread_notifications` for /sync (rules in src/sync/unread.ts and docs/sync.md), kept cheap for
 * the long poll: per (room, user) the last counts are remembered with what they depended on (the
 * position, the read marker, the display name). A later sync with the same marker adds the counts
 * of the events since then, taken from the room's shared snapshot, instead of scanning back again.
 * It scans afresh when the marker or display name changed, the user sent something (their own
 * event is a read marker), a redaction arrived (it may uncount an earlier event), or the snapshot
 * does not cover the gap.
 */
import type { Storage } from '../storage/storage.js';
import type { MaybePromise } from './maybe-promise.js';
import { type CountableEvent, countUnread, highlights, notifies, type UnreadCounts } from '../sync/unread.js';
import { displayNameIn, type RecentEvent, type RoomSnapshot } from './room-snapshots.js';

/** A fresh count looks at most this many events back; counts saturate there. */
const UNREAD_SCAN = 500;
const UNREAD_PAGE = 20;
const MAX_MEMOS = 20_000;
/** Counted only while ringing (src/sync/unread.ts), so counts that include one cannot be carried forward. */
const CALL_INVITE = 'm.call.invite';

interface Memo {
  position: number;
  /** The account-data and receipts positions the floor was read at (both streams carry every marker change). */
  adPos: number;
  rcPos: number;
  floor: number;
  displayName: string | undefined;
  /** The room state the display name was read from: while it is the same object, so is the name. */
  state: RoomSnapshot['state'];
  counts: UnreadCounts;
  /** The counts include a call invite, which stops counting once its `lifetime` is over: always rescan. */
  expiring: boolean;
}

export interface MarkerPositions {
  accountData: number;
  receipts: number;
}

export class UnreadCounter {
  /** Per room, per user (two levels: no key string built per call). */
  private readonly memos = new Map<string, Map<string, Memo>>();
  private size = 0;

  constructor(private readonly storage: Storage) {}

  counts(snap: RoomSnapshot, userId: string, positions: MarkerPositions): MaybePromise<UnreadCounts> {
    const memo = this.memos.get(snap.roomId)?.get(userId);
    if (memo && !memo.expiring && memo.adPos === positions.accountData && memo.rcPos === positions.receipts) {
      // The same snapshot and markers as last time (another device of the user, a repeated build): the same counts.
      if (memo.position === snap.position) return memo.counts;
      // The same markers and room state, only newer events (the woken sync): add theirs, with nothing to read.
      if (memo.state === snap.state && memo.position < snap.position) {
        const counts = this.increment(memo.counts, snap, memo.position, memo.floor, userId, memo.displayName);
        if (counts !== undefined) {
          memo.position = snap.position;
          memo.counts = counts;
          return counts;
        }
      }
    }
    return this.read(snap, userId, positions, memo);
  }

  /** Counts that need a read: a new marker, a new display name, or a fresh scan. */
  private async read(snap: RoomSnapshot, userId: string, positions: MarkerPositions, memo: Memo | undefined): Promise<UnreadCounts> {
    const floor =
      memo && memo.adPos === positions.accountData && memo.rcPos === positions.receipts ? memo.floor : await this.floor(snap.roomId, userId);
    const displayName = memo && memo.state === snap.state ? memo.displayName : await displayNameIn(this.storage.events, snap, userId);
    let counts: UnreadCounts | undefined;
    let expiring = false;
    if (memo && !memo.expiring && memo.floor === floor && memo.displayName === displayName && memo.position <= snap.position) {
      counts = memo.position === snap.position ? memo.counts : this.increment(memo.counts, snap, memo.position, floor, userId, displayName);
    }
    if (counts === undefined) ({ counts, expiring } = await this.scan(snap.roomId, userId, snap.position, floor, displayName));
    if (memo) {
      // Updated in place: the map's order is then first-counted, not last-used, which only matters for eviction.
      Object.assign(memo, { position: snap.position, adPos: positions.accountData, rcPos: positions.receipts, floor, displayName, state: snap.state, counts, expiring });
    } else {
      if (this.size >= MAX_MEMOS) {
        // Forget the oldest room's memos (rescanning later is the only cost).
        const [roomId, users] = this.memos.entries().next().value as [string, Map<string, Memo>];
        this.memos.delete(roomId);
        this.size -= users.size;
      }
      let room = this.memos.get(snap.roomId);
      if (!room) {
        room = new Map();
        this.memos.set(snap.roomId, room);
      }
      room.set(userId, { position: snap.position, adPos: positions.accountData, rcPos: positions.receipts, floor, displayName, state: snap.state, counts, expiring });
      this.size++;
    }
    return counts;
  }

  /** The earlier counts plus those of the events after `from`; undefined when only a fresh scan is right. */
  private increment(
    before: UnreadCounts,
    snap: RoomSnapshot,
    from: number,
    floor: number,
    userId: string,
    displayName: string | undefined,
  ): UnreadCounts | undefined {
    // What recentSince(snap, from) would list, walked in place: this runs for every member woken
    // by every message, so it allocates nothing unless the counts change.
    if (from < snap.coversFrom) return undefined;
    const viewer = { userId, displayName, now: Date.now() };
    let notificationsAdded = 0;
    let highlightsAdded = 0;
    for (const r of snap.recent) {
      if (r.stored.streamOrdering <= from) break;
      const ev = r.stored.event;
      if (ev.sender === userId || ev.type === 'm.room.redaction' || ev.type === CALL_INVITE) return undefined;
      if (r.stored.streamOrdering <= floor) continue;
      const c = countableOf(r);
      if (!notifies(c, viewer)) continue;
      notificationsAdded++;
      if (highlights(c, viewer)) highlightsAdded++;
    }
    if (notificationsAdded === 0) return before;
    return {
      notification_count: before.notification_count + notificationsAdded,
      highlight_count: before.highlight_count + highlightsAdded,
    };
  }

  /** The read marker's stream position: the later of `m.fully_read` and the user's read receipts. */
  private async floor(roomId: string, userId: string): Promise<number> {
    const fullyRead = await this.storage.accountData.get(userId, roomId, 'm.fully_read');
    const markerId = typeof fullyRead?.event_id === 'string' ? fullyRead.event_id : undefined;
    const marker = markerId === undefined ? undefined : await this.storage.events.getEvent(markerId);
    let floor = marker && marker.event.roomId === roomId ? marker.streamOrdering : 0;
    // Read receipts (public or private; unthreaded or for the main timeline) move the marker too.
    for (const r of await this.storage.receipts.getForUser(roomId, userId)) {
      if (r.threadId === null || r.threadId === 'main') floor = Math.max(floor, r.eventStream);
    }
    return floor;
  }

  /** Counts from scratch over the events after the marker, scanning back from `upTo`. */
  private async scan(
    roomId: string,
    userId: string,
    upTo: number,
    floor: number,
    displayName: string | undefined,
  ): Promise<{ counts: UnreadCounts; expiring: boolean }> {
    const store = this.storage.events;
    // Newest first, in small pages: the scan usually stops early, at the user's own latest event.
    const after = [];
    let upper = upTo;
    scan: while (after.length < UNREAD_SCAN) {
      const page = await store.getRoomEventsByStream(roomId, floor, upper, UNREAD_PAGE, 'b');
      for (const e of page) {
        if (e.event.sender === userId) break scan;
        after.push(e);
      }
      if (page.length < UNREAD_PAGE) break;
      upper = page[page.length - 1].streamOrdering - 1;
    }
    const redacted = await store.getRedactedAmong(after.map((e) => e.event.eventId));
    const counts = countUnread(
      after.map((e) => countable(e, redacted.has(e.event.eventId))),
      { userId, displayName, now: Date.now() },
    );
    return { counts, expiring: after.some((e) => e.event.type === CALL_INVITE) };
  }
}

/** Recent events are immutable (a redaction makes a new one), so each is made countable once for every member. */
const countables = new WeakMap<RecentEvent, CountableEvent>();

function countableOf(r: RecentEvent): CountableEvent {
  let c = countables.get(r);
  if (c === undefined) {
    c = countable(r.stored, r.redacted);
    countables.set(r, c);
  }
  return c;
}

function countable(e: RecentEvent['stored'], redacted: boolean): CountableEvent {
  const { type, stateKey, sender, content, originServerTs } = e.event;
  return { type, stateKey, sender, content, redacted, originServerTs };
}
