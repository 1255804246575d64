/**
 * Typing notifications: in memory only (they expire within seconds, so a restart losing them is
 * harmless). Each room carries the stream position of its last change; /sync and WebSocket sync
 * ask `changesFor` which rooms changed between two positions and get each one's CURRENT list as an
 * `m.typing` event (typing is a snapshot, never a delta).
 *
 * Positions start at the boot time in milliseconds, so a token from an earlier run is almost
 * always behind the new positions (and a token from the future is clamped by the sync engine).
 */
import type { JsonObject } from '../core/json.js';
import { forbidden } from '../http/errors.js';
import type { Notifier } from '../notifier.js';
import { CoalescedWake } from './coalesced-wake.js';
import { DeadlineQueue } from './deadline-queue.js';
import { Listeners } from './listeners.js';

/** Longest typing period a client may ask for; longer requests are shortened. */
export const MAX_TYPING_TIMEOUT_MS = 120_000;
const DEFAULT_TYPING_TIMEOUT_MS = 30_000;

export interface TypingUpdate {
  roomId: string;
  userId: string;
  typing: boolean;
  /** How long the user stays typing (meaningful when `typing`). */
  timeoutMs: number;
}

interface RoomTyping {
  position: number;
  /** User → expiry time. */
  users: Map<string, number>;
}

export class TypingService {
  private readonly rooms = new Map<string, RoomTyping>();
  private position: number;
  private readonly expiries: DeadlineQueue<string>;
  /** Local users' typing changes (for the federation sender: `m.typing` EDUs). */
  readonly localChanges: Listeners<[TypingUpdate]>;
  private readonly wake: CoalescedWake;

  constructor(
    notifier: Notifier,
    private readonly now: () => number,
    /** The user's membership in the room ('join', 'leave', …), undefined when none. */
    private readonly membership: (roomId: string, userId: string) => Promise<string | undefined>,
    onListenerError?: (err: unknown) => void,
    /** Typing changes wake readers in batches over this many ms (see coalesced-wake.ts). */
    wakeCoalesceMs = 0,
  ) {
    this.wake = new CoalescedWake(notifier, 'typing', wakeCoalesceMs);
    this.position = now();
    this.localChanges = new Listeners(onListenerError);
    this.expiries = new DeadlineQueue(now, (key) => this.expire(key));
  }

  /**
   * A local user started (`typing`) or stopped typing. Throws a 403 MatrixError when the user is
   * not joined to the room (both the HTTP endpoint and WebSocket frames come through here).
   */
  async setTyping(roomId: string, userId: string, typing: boolean, timeoutMs = DEFAULT_TYPING_TIMEOUT_MS): Promise<void> {
    if ((await this.membership(roomId, userId)) !== 'join') throw forbidden('You are not in this room.');
    const t = clampTimeout(timeoutMs);
    if (this.apply(roomId, userId, typing, t)) this.localChanges.emit({ roomId, userId, typing, timeoutMs: t });
  }

  /** A typing update from another server (no re-emission to the federation sender). */
  applyRemote(update: TypingUpdate): void {
    this.apply(update.roomId, update.userId, update.typing, clampTimeout(update.timeoutMs));
  }

  /** Users typing in the room right now. */
  typingIn(roomId: string): string[] {
    return [...(this.rooms.get(roomId)?.users.keys() ?? [])];
  }

  currentPosition(): number {
    return this.position;
  }

  /**
   * The rooms among `roomIds` whose typing list changed in (fromExclusive, toInclusive], each with
   * its current `m.typing` event. A first sync (from 0) skips rooms where nobody types.
   */
  changesFor(roomIds: Iterable<string>, fromExclusive: number, toInclusive: number): Map<string, JsonObject> {
    const out = new Map<string, JsonObject>();
    for (const roomId of roomIds) {
      const room = this.rooms.get(roomId);
      if (!room || room.position <= fromExclusive || room.position > toInclusive) continue;
      if (fromExclusive === 0 && room.users.size === 0) continue;
      out.set(roomId, { type: 'm.typing', content: { user_ids: [...room.users.keys()] } });
    }
    return out;
  }

  close(): void {
    this.expiries.close();
    this.wake.close();
  }

  /** Returns true when the visible state changed (a refresh of an ongoing typing period is not a change). */
  private apply(roomId: string, userId: string, typing: boolean, timeoutMs: number): boolean {
    let room = this.rooms.get(roomId);
    const key = expiryKey(roomId, userId);
    if (typing) {
      if (!room) {
        room = { position: 0, users: new Map() };
        this.rooms.set(roomId, room);
      }
      const was = room.users.has(userId);
      const until = this.now() + timeoutMs;
      room.users.set(userId, until);
      this.expiries.schedule(key, until);
      if (was) return false;
    } else {
      if (!room?.users.delete(userId)) return false;
      this.expiries.cancel(key);
    }
    this.changed(roomId, room);
    return true;
  }

  private expire(key: string): void {
    const [roomId, userId] = JSON.parse(key) as [string, string];
    const room = this.rooms.get(roomId);
    if (!room?.users.delete(userId)) return;
    this.changed(roomId, room);
    // Other servers time the typing out themselves; only local listeners care about the stop.
    this.localChanges.emit({ roomId, userId, typing: false, timeoutMs: 0 });
  }

  private changed(roomId: string, room: RoomTyping): void {
    // A room nobody types in any more stays in the map with its position, so a sync from
    // before the stop still learns about it (one small entry per room that ever had typing).
    room.position = ++this.position;
    this.wake.changed([roomId]);
  }
}

function clampTimeout(ms: number): number {
  return Math.min(Math.max(0, Math.floor(ms)), MAX_TYPING_TIMEOUT_MS);
}

function expiryKey(roomId: string, userId: string): string {
  return JSON.stringify([roomId, userId]);
}
