/** The writes for one event (see `persistEvent` in src/storage/event-store.ts); runs inside a transaction. */
import type { RoomEvent, StateMap } from '../../core/pdu.js';
import { splitStateKey, stateKeyOf } from '../../core/pdu.js';
import type { PersistEventInput, PersistedEvent } from '../event-store.js';
import type { EventRows } from './event-rows.js';
import type { Prepare } from './statement-cache.js';
import type { SqliteStateGroups } from './state-groups.js';

export class EventWriter {
  constructor(
    private readonly prep: Prepare,
    private readonly rows: EventRows,
    private readonly groups: SqliteStateGroups,
  ) {}

  persist(input: PersistEventInput): PersistedEvent {
    const ev = input.event;
    const rejected = input.rejectedReason !== undefined;
    const outlier = input.outlier === true;
    const softFailed = input.softFailed === true;

    if (input.newRoom) {
      this.prep('INSERT INTO rooms (room_id, room_version, creator, is_public, created_stream) VALUES (?, ?, ?, 0, 0) ON CONFLICT (room_id) DO NOTHING').run(
        ev.roomId,
        input.newRoom.version,
        input.newRoom.creator,
      );
      this.rows.setRoomVersion(ev.roomId, input.newRoom.version);
    }

    let before: number | undefined;
    let after: number | undefined;
    if (!outlier && !rejected) {
      if (input.stateBefore === undefined) throw new Error(`persistEvent: no state before ${ev.eventId}`);
      before = this.groups.storeStateGroup(ev.roomId, input.stateBefore);
      after = ev.stateKey === undefined ? before : this.groups.storeDelta(ev.roomId, before, [[stateKeyOf(ev.type, ev.stateKey), ev.eventId]]);
    }

    // An event known so far only as an outlier (e.g. an auth event, a remote invite) now gets its place in the graph.
    if (!outlier) this.prep('DELETE FROM events WHERE event_id = ? AND outlier = 1').run(ev.eventId);
    const info = this.prep(
        `INSERT INTO events (event_id, room_id, type, state_key, sender, depth, origin_server_ts, pdu,
           rejected_reason, outlier, soft_failed, redacts, state_group_before, state_group_after)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        ev.eventId,
        ev.roomId,
        ev.type,
        ev.stateKey ?? null,
        ev.sender,
        ev.depth,
        ev.originServerTs,
        JSON.stringify(ev.pdu),
        input.rejectedReason ?? null,
        outlier ? 1 : 0,
        softFailed ? 1 : 0,
        ev.redacts ?? null,
        before ?? null,
        after ?? null,
      );
    let stream = Number(info.lastInsertRowid);
    if (input.backfilled) {
      // History fetched later than it happened gets a negative position (below everything), so
      // stream-ordered reads (/sync, "latest event") never take it for something new.
      const low = this.prep('SELECT MIN(stream_ordering) AS m FROM events').get() as { m: number };
      const to = Math.min(low.m, 0) - 1;
      this.prep('UPDATE events SET stream_ordering = ? WHERE stream_ordering = ?').run(to, stream);
      stream = to;
    }
    if (input.newRoom) this.prep('UPDATE rooms SET created_stream = ? WHERE room_id = ?').run(stream, ev.roomId);

    const edge = this.prep('INSERT OR IGNORE INTO event_edges (event_id, prev_event_id) VALUES (?, ?)');
    for (const p of ev.prevEventIds) edge.run(ev.eventId, p);
    const auth = this.prep('INSERT OR IGNORE INTO event_auth (event_id, auth_event_id) VALUES (?, ?)');
    for (const a of ev.authEventIds) auth.run(ev.eventId, a);

    if (!outlier && !rejected && !softFailed && !input.backfilled) {
      const del = this.prep('DELETE FROM forward_extremities WHERE room_id = ? AND event_id = ?');
      for (const p of ev.prevEventIds) del.run(ev.roomId, p);
      // An event that arrives after its children is not an extremity.
      const child = this.prep(
          `SELECT 1 FROM event_edges e JOIN events c ON c.event_id = e.event_id
           WHERE e.prev_event_id = ? AND c.outlier = 0 AND c.rejected_reason IS NULL AND c.soft_failed = 0 LIMIT 1`,
        )
        .get(ev.eventId);
      if (!child) {
        this.prep('INSERT OR IGNORE INTO forward_extremities (room_id, event_id) VALUES (?, ?)').run(ev.roomId, ev.eventId);
      }
      if (input.newCurrentState) this.replaceCurrentState(ev, stream, input.newCurrentState, false);
      else if (input.currentStateDelta) this.replaceCurrentState(ev, stream, input.currentStateDelta, true);
    }

    if (outlier && input.outOfRoomMembership && ev.type === 'm.room.member' && ev.stateKey !== undefined) {
      const m = ev.content.membership;
      this.prep(
        `INSERT INTO room_memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten) VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id,
           stream_ordering = excluded.stream_ordering, forgotten = 0`,
      ).run(ev.roomId, ev.stateKey, typeof m === 'string' ? m : 'leave', ev.eventId, stream);
    }

    if (input.txn) {
      this.prep('INSERT INTO event_txn_ids (user_id, device_id, txn_id, event_id) VALUES (?, ?, ?, ?)').run(
        input.txn.userId,
        input.txn.deviceId,
        input.txn.txnId,
        ev.eventId,
      );
    }
    if (input.effectiveRedaction && ev.redacts !== undefined && !rejected) {
      this.prep('INSERT OR IGNORE INTO redactions (redaction_id, redacts, stream_ordering) VALUES (?, ?, ?)').run(
        ev.eventId,
        ev.redacts,
        stream,
      );
    }
    return { streamOrdering: stream, stateGroupBefore: before, stateGroupAfter: after };
  }

  /**
   * Writes the difference between the stored current state and `next` (with `partial`, `next`
   * only holds changed entries), keeping memberships in step.
   */
  private replaceCurrentState(ev: RoomEvent, stream: number, next: StateMap, partial: boolean): void {
    const rows = (partial ? [] : this.prep('SELECT type, state_key, event_id FROM current_state WHERE room_id = ?').all(ev.roomId)) as Array<{
      type: string;
      state_key: string;
      event_id: string;
    }>;
    const current = new Map(rows.map((r) => [stateKeyOf(r.type, r.state_key), r.event_id]));
    const upsert = this.prep(
      'INSERT INTO current_state (room_id, type, state_key, event_id) VALUES (?, ?, ?, ?) ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id',
    );
    const remove = this.prep('DELETE FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?');
    const setMember = this.prep(
      `INSERT INTO room_memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id,
         stream_ordering = excluded.stream_ordering, forgotten = 0`,
    );
    const removeMember = this.prep('DELETE FROM room_memberships WHERE room_id = ? AND user_id = ?');
    // SQLite reads the one field; parsing whole events here was most of writing a joined room's state.
    const memberInfo = this.prep("SELECT json_extract(pdu, '$.content.membership') AS m, stream_ordering FROM events WHERE event_id = ?");

    for (const [key, eventId] of next) {
      if (current.get(key) === eventId) continue;
      const [type, stateKey] = splitStateKey(key);
      upsert.run(ev.roomId, type, stateKey, eventId);
      if (type !== 'm.room.member') continue;
      let m: unknown;
      let at: number;
      if (eventId === ev.eventId) {
        m = ev.content.membership;
        at = stream;
      } else {
        const row = memberInfo.get(eventId) as { m: unknown; stream_ordering: number } | undefined;
        if (!row) continue;
        m = row.m;
        at = row.stream_ordering;
      }
      setMember.run(ev.roomId, stateKey, typeof m === 'string' ? m : 'leave', eventId, at);
    }
    for (const key of current.keys()) {
      if (partial || next.has(key)) continue;
      const [type, stateKey] = splitStateKey(key);
      remove.run(ev.roomId, type, stateKey);
      if (type === 'm.room.member') removeMember.run(ev.roomId, stateKey);
    }
  }
}
