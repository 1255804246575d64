/** Rows of the `events` table, decoded to StoredEvents through a cache. */
import { toRoomEvent } from '../../core/event-format.js';
import type { Pdu } from '../../core/pdu.js';
import { getRoomVersion } from '../../rooms/versions.js';
import type { StoredEvent } from '../event-store.js';
import { Lru } from './lru.js';
import type { Prepare } from './statement-cache.js';

const EVENT_CACHE_SIZE = 4096;

export interface EventRow {
  stream_ordering: number;
  event_id: string;
  room_id: string;
  pdu: string;
  rejected_reason: string | null;
  outlier: number;
  soft_failed: number;
}

export const EVENT_COLS = 'stream_ordering, event_id, room_id, pdu, rejected_reason, outlier, soft_failed';
export const TIMELINE = 'outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0';

export class EventRows {
  /** Event rows never change once committed, so committed ones are cached whole. */
  private readonly events = new Lru<string, StoredEvent>(EVENT_CACHE_SIZE);
  private readonly versions = new Map<string, string>();

  constructor(private readonly prep: Prepare) {}

  cached(eventId: string): StoredEvent | undefined {
    return this.events.get(eventId);
  }

  /** Only for committed events. */
  remember(stored: StoredEvent): void {
    this.events.set(stored.event.eventId, stored);
  }

  setRoomVersion(roomId: string, version: string): void {
    this.versions.set(roomId, version);
  }

  clear(): void {
    this.events.clear();
    this.versions.clear();
  }

  private versionOf(roomId: string): string {
    let v = this.versions.get(roomId);
    if (v === undefined) {
      const row = this.prep('SELECT room_version FROM rooms WHERE room_id = ?').get(roomId) as
        | { room_version: string }
        | undefined;
      if (!row) throw new Error(`event in unknown room ${roomId}`);
      v = row.room_version;
      this.versions.set(roomId, v);
    }
    return v;
  }

  fromRow(r: EventRow): StoredEvent {
    const cached = this.events.get(r.event_id);
    if (cached) return cached;
    const version = getRoomVersion(this.versionOf(r.room_id));
    if (!version) throw new Error(`room ${r.room_id} has an unsupported version`);
    const stored: StoredEvent = {
      // The ID was computed when the event was stored; hashing it again on every read is wasted work.
      event: toRoomEvent(JSON.parse(r.pdu) as Pdu, version, { eventId: r.event_id }),
      streamOrdering: r.stream_ordering,
      rejectedReason: r.rejected_reason ?? undefined,
      outlier: r.outlier !== 0,
      softFailed: r.soft_failed !== 0,
    };
    this.events.set(r.event_id, stored);
    return stored;
  }
}
