/** Reads of events, current state, transaction IDs, redactions and timelines. */
import { stateKeyOf } from '../../core/pdu.js';
import type { StateMap } from '../../core/pdu.js';
import type { Direction, RoomRecord, RoomsChanged, StoredEvent, TopologicalToken } from '../event-store.js';
import { EVENT_COLS, type EventRow, type EventRows, TIMELINE } from './event-rows.js';
import type { Prepare } from './statement-cache.js';

export class SqliteEventReads {
  constructor(
    private readonly prep: Prepare,
    private readonly rows: EventRows,
  ) {}

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const r = this.prep('SELECT room_id, room_version, creator, is_public FROM rooms WHERE room_id = ?').get(roomId) as
      | { room_id: string; room_version: string; creator: string; is_public: number }
      | undefined;
    return r && { roomId: r.room_id, version: r.room_version, creator: r.creator, isPublic: r.is_public !== 0 };
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const cached = this.rows.cached(eventId);
    if (cached) return cached;
    const r = this.prep(`SELECT ${EVENT_COLS} FROM events WHERE event_id = ?`).get(eventId) as EventRow | undefined;
    return r && this.rows.fromRow(r);
  }

  async getEvents(eventIds: readonly string[]): Promise<Map<string, StoredEvent>> {
    const found = new Map<string, StoredEvent>();
    const missing: string[] = [];
    for (const id of eventIds) {
      const cached = this.rows.cached(id);
      if (cached) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const rows = this.prep(`SELECT ${EVENT_COLS} FROM events WHERE event_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(missing)) as EventRow[];
    for (const r of rows) found.set(r.event_id, this.rows.fromRow(r));
    return found;
  }

  async getAuthChain(eventIds: readonly string[]): Promise<StoredEvent[]> {
    const rows = this.prep(
        `WITH RECURSIVE chain(id) AS (
           SELECT auth_event_id FROM event_auth WHERE event_id IN (SELECT value FROM json_each(?))
           UNION SELECT a.auth_event_id FROM event_auth a JOIN chain c ON a.event_id = c.id)
         SELECT ${EVENT_COLS} FROM events WHERE event_id IN (SELECT id FROM chain)`,
      )
      .all(JSON.stringify(eventIds)) as EventRow[];
    return rows.map((r) => this.rows.fromRow(r));
  }

  async getCurrentState(roomId: string): Promise<StateMap> {
    const rows = this.prep('SELECT type, state_key, event_id FROM current_state WHERE room_id = ?').all(roomId) as Array<{
      type: string;
      state_key: string;
      event_id: string;
    }>;
    return new Map(rows.map((r) => [stateKeyOf(r.type, r.state_key), r.event_id]));
  }

  async getCurrentStateEntries(roomId: string, keys: ReadonlyArray<readonly [string, string]>): Promise<StateMap> {
    const one = this.prep('SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?');
    const out = new Map<string, string>();
    for (const [type, stateKey] of keys) {
      const r = one.get(roomId, type, stateKey) as { event_id: string } | undefined;
      if (r) out.set(stateKeyOf(type, stateKey), r.event_id);
    }
    return out;
  }

  async getCurrentStateEvent(roomId: string, type: string, stateKey: string): Promise<StoredEvent | undefined> {
    const r = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE event_id =
           (SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?)`,
      )
      .get(roomId, type, stateKey) as EventRow | undefined;
    return r && this.rows.fromRow(r);
  }

  async getForwardExtremities(roomId: string): Promise<string[]> {
    const rows = this.prep(
        `SELECT f.event_id FROM forward_extremities f JOIN events e ON e.event_id = f.event_id
         WHERE f.room_id = ? ORDER BY e.depth DESC, e.stream_ordering DESC`,
      )
      .all(roomId) as Array<{ event_id: string }>;
    return rows.map((r) => r.event_id);
  }

  // ---- transactions and redactions ----

  async getTxnEvent(userId: string, deviceId: string, txnId: string): Promise<string | undefined> {
    const r = this.prep('SELECT event_id FROM event_txn_ids WHERE user_id = ? AND device_id = ? AND txn_id = ?')
      .get(userId, deviceId, txnId) as { event_id: string } | undefined;
    return r?.event_id;
  }

  async getTxnForEvent(eventId: string): Promise<{ userId: string; deviceId: string; txnId: string } | undefined> {
    const r = this.prep('SELECT user_id, device_id, txn_id FROM event_txn_ids WHERE event_id = ?').get(eventId) as
      | { user_id: string; device_id: string; txn_id: string }
      | undefined;
    return r && { userId: r.user_id, deviceId: r.device_id, txnId: r.txn_id };
  }

  async getRedactionOf(eventId: string): Promise<StoredEvent | undefined> {
    const r = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE event_id =
           (SELECT redaction_id FROM redactions WHERE redacts = ? ORDER BY stream_ordering LIMIT 1)`,
      )
      .get(eventId) as EventRow | undefined;
    return r && this.rows.fromRow(r);
  }

  async getRedactedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = this.prep('SELECT DISTINCT redacts FROM redactions WHERE redacts IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(JSON.stringify(eventIds)) as string[];
    return new Set(rows);
  }

  // ---- timelines ----

  async getMaxStreamOrdering(): Promise<number> {
    const r = this.prep('SELECT MAX(stream_ordering) AS m FROM events').get() as { m: number | null };
    return r.m ?? 0;
  }

  async getRoomEventsByStream(
    roomId: string,
    fromExclusive: number,
    toInclusive: number,
    limit: number,
    dir: Direction,
  ): Promise<StoredEvent[]> {
    const order = dir === 'b' ? 'DESC' : 'ASC';
    const rows = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE room_id = ? AND stream_ordering > ? AND stream_ordering <= ? AND ${TIMELINE}
         ORDER BY stream_ordering ${order} LIMIT ?`,
      )
      .all(roomId, fromExclusive, toInclusive, limit) as EventRow[];
    return rows.map((r) => this.rows.fromRow(r));
  }

  async getRoomEventsByTopology(
    roomId: string,
    from: TopologicalToken | undefined,
    dir: Direction,
    limit: number,
  ): Promise<StoredEvent[]> {
    const cmp = dir === 'b' ? '<' : '>';
    const order = dir === 'b' ? 'DESC' : 'ASC';
    const where = from ? `AND (depth ${cmp} ? OR (depth = ? AND stream_ordering ${cmp} ?))` : '';
    const params: number[] = from ? [from.depth, from.depth, from.streamOrdering] : [];
    const rows = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE room_id = ? ${where} AND ${TIMELINE}
         ORDER BY depth ${order}, stream_ordering ${order} LIMIT ?`,
      )
      .all(roomId, ...params, limit) as EventRow[];
    return rows.map((r) => this.rows.fromRow(r));
  }

  async getRoomsChangedBetween(fromExclusive: number, toInclusive: number): Promise<RoomsChanged> {
    if (toInclusive <= fromExclusive) return { rooms: new Set(), memberRooms: new Set() };
    const rows = this.prep(
        `SELECT room_id, MAX(type = 'm.room.member') AS m FROM events WHERE stream_ordering > ? AND stream_ordering <= ?
         GROUP BY room_id`,
      )
      .all(fromExclusive, toInclusive) as Array<{ room_id: string; m: number }>;
    return { rooms: new Set(rows.map((r) => r.room_id)), memberRooms: new Set(rows.filter((r) => r.m === 1).map((r) => r.room_id)) };
  }

  async getEventsInRooms(roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<StoredEvent[]> {
    const rows = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE room_id IN (SELECT value FROM json_each(?))
           AND stream_ordering > ? AND stream_ordering <= ? AND ${TIMELINE} ORDER BY stream_ordering`,
      )
      .all(JSON.stringify(roomIds), fromExclusive, toInclusive) as EventRow[];
    return rows.map((r) => this.rows.fromRow(r));
  }

  async getRoomEventsByTimestamp(roomId: string, ts: number, dir: Direction, limit: number): Promise<StoredEvent[]> {
    const cmp = dir === 'b' ? '<=' : '>=';
    const order = dir === 'b' ? 'DESC' : 'ASC';
    const rows = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE room_id = ? AND origin_server_ts ${cmp} ? AND ${TIMELINE}
         ORDER BY origin_server_ts ${order}, stream_ordering ${order} LIMIT ?`,
      )
      .all(roomId, ts, limit) as EventRow[];
    return rows.map((r) => this.rows.fromRow(r));
  }
}
