/**
 * SQLite implementation of the event graph storage (see src/storage/event-store.ts and the
 * `002-rooms` migration for the schema). Writes go through `persistEvent`, one transaction.
 */
import type Database from 'better-sqlite3';
import { toRoomEvent } from '../../core/event-format.js';
import type { Pdu, RoomEvent, StateMap } from '../../core/pdu.js';
import { splitStateKey, stateKeyOf } from '../../core/pdu.js';
import { getRoomVersion } from '../../rooms/versions.js';
import { withStateChanges } from '../layered-state-map.js';
import { GroupCommit } from './group-commit.js';
import type {
  Direction,
  EventStore,
  MembershipRecord,
  PersistEventInput,
  PersistedChain,
  PersistedEvent,
  RoomRecord,
  StateInput,
  StoredEvent,
  TopologicalToken,
} from '../event-store.js';

/** A delta chain longer than this is cut by writing a full snapshot. */
export const MAX_STATE_DELTA_DEPTH = 100;
const STATE_CACHE_SIZE = 256;
const EVENT_CACHE_SIZE = 4096;

interface EventRow {
  stream_ordering: number;
  event_id: string;
  room_id: string;
  pdu: string;
  rejected_reason: string | null;
  outlier: number;
  soft_failed: number;
}

interface MembershipRow {
  room_id: string;
  user_id: string;
  membership: string;
  event_id: string;
  stream_ordering: number;
  forgotten: number;
}

const EVENT_COLS = 'stream_ordering, event_id, room_id, pdu, rejected_reason, outlier, soft_failed';
const TIMELINE = 'outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0';

/** A small least-recently-used map; JS Maps iterate in insertion order. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly size: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  clear(): void {
    this.map.clear();
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as K);
  }
}

function toMembership(r: MembershipRow): MembershipRecord {
  return {
    roomId: r.room_id,
    userId: r.user_id,
    membership: r.membership,
    eventId: r.event_id,
    streamOrdering: r.stream_ordering,
    forgotten: r.forgotten !== 0,
  };
}

export class SqliteEventStore implements EventStore {
  /** Event rows never change once committed, so committed ones are cached whole. */
  private readonly events = new Lru<string, StoredEvent>(EVENT_CACHE_SIZE);
  private readonly groups = new Lru<number, StateMap>(STATE_CACHE_SIZE);
  private readonly versions = new Map<string, string>();
  /** An event's state groups never change once set (an outlier has none until it gets its place in the graph). */
  private readonly eventGroups = new Lru<string, { before: number; after: number }>(EVENT_CACHE_SIZE);
  private readonly depths = new Lru<number, number>(STATE_CACHE_SIZE * 4);

  private readonly statements = new Map<string, Database.Statement>();
  private readonly commits: GroupCommit;
  /** One event's writes as a savepoint inside the group transaction, so a failure undoes exactly that event. */
  private readonly persistOne: (input: PersistEventInput) => PersistedEvent;

  constructor(private readonly db: Database.Database) {
    this.commits = new GroupCommit(db, { onRollback: () => this.dropCaches() });
    this.persistOne = db.transaction((input: PersistEventInput) => this.persistSync(input));
  }

  /** Prepared statements are cached by SQL text; preparing is far costlier than running. */
  private prep(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  // ---- writes ----

  async persistEvent(input: PersistEventInput): Promise<PersistedEvent> {
    const r = await this.persistEvents([input]);
    if (r.error !== undefined) throw r.error;
    return r.persisted[0];
  }

  async persistEvents(inputs: readonly PersistEventInput[]): Promise<PersistedChain> {
    const chain = await this.commits.submit((): PersistedChain => {
      const persisted: PersistedEvent[] = [];
      for (const input of inputs) {
        try {
          persisted.push(this.persistOne(input));
        } catch (error) {
          this.dropCaches();
          return { persisted, error };
        }
      }
      return { persisted };
    });
    // Committed now: cache them for the reads that follow (the next event's checks cite them).
    chain.persisted.forEach((p, i) => {
      const input = inputs[i];
      this.events.set(input.event.eventId, {
        event: input.event,
        streamOrdering: p.streamOrdering,
        rejectedReason: input.rejectedReason,
        outlier: input.outlier === true,
        softFailed: input.softFailed === true,
      });
    });
    return chain;
  }

  /** Commits writes still waiting for their group (before the database is closed). */
  flushPendingWrites(): void {
    this.commits.flush();
  }

  /**
   * Rolled-back writes may have filled the caches, and their row IDs (state groups) will be
   * handed out again: forget everything rather than serve a state that was never committed.
   */
  private dropCaches(): void {
    this.events.clear();
    this.groups.clear();
    this.eventGroups.clear();
    this.depths.clear();
    this.versions.clear();
  }

  private persistSync(input: PersistEventInput): PersistedEvent {
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
      this.versions.set(ev.roomId, input.newRoom.version);
    }

    let before: number | undefined;
    let after: number | undefined;
    if (!outlier && !rejected) {
      if (input.stateBefore === undefined) throw new Error(`persistEvent: no state before ${ev.eventId}`);
      before = this.storeStateGroup(ev.roomId, input.stateBefore);
      after = ev.stateKey === undefined ? before : this.storeDelta(ev.roomId, before, [[stateKeyOf(ev.type, ev.stateKey), ev.eventId]]);
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

  private storeStateGroup(roomId: string, input: StateInput): number {
    if ('group' in input) return input.group;
    if (input.baseGroup !== undefined) {
      const base = this.loadGroup(input.baseGroup);
      const changed: Array<[string, string | null]> = [];
      for (const [k, v] of input.map) if (base.get(k) !== v) changed.push([k, v]);
      for (const k of base.keys()) if (!input.map.has(k)) changed.push([k, null]);
      return this.storeDelta(roomId, input.baseGroup, changed);
    }
    return this.storeSnapshot(roomId, new Map(input.map));
  }

  /**
   * The group `baseGroup` + `changes`, stored as a delta while the chain of deltas above the
   * last full snapshot is short enough. "Short enough" grows with the state: loading a group
   * reads its snapshot (one row per entry) plus one small delta per hop, so a chain of up to
   * a tenth of the state's size at most doubles a cold load, while snapshots — which cost a row
   * per entry — are written only every `size / 10` changes instead of every
   * MAX_STATE_DELTA_DEPTH, which for a large room was most of the cost of every state event.
   */
  private storeDelta(roomId: string, baseGroup: number, changes: ReadonlyArray<readonly [string, string | null]>): number {
    const base = this.loadGroup(baseGroup);
    const real = changes.filter(([k, v]) => base.get(k) !== (v ?? undefined));
    if (real.length === 0) return baseGroup;
    const next = withStateChanges(base, real);
    const depth = this.depthOf(baseGroup) + 1;
    if (depth >= Math.max(MAX_STATE_DELTA_DEPTH, next.size / 10)) return this.storeSnapshot(roomId, next);
    const id = Number(this.prep('INSERT INTO state_groups (room_id, prev_group, delta_depth) VALUES (?, ?, ?)').run(roomId, baseGroup, depth).lastInsertRowid);
    const insertEntry = this.prep('INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES (?, ?, ?, ?)');
    for (const [k, v] of real) {
      const [type, stateKey] = splitStateKey(k);
      insertEntry.run(id, type, stateKey, v);
    }
    this.groups.set(id, next);
    this.depths.set(id, depth);
    return id;
  }

  /** `map` must not be modified afterwards: it is cached as the group's state. */
  private storeSnapshot(roomId: string, map: StateMap): number {
    const id = Number(this.prep('INSERT INTO state_groups (room_id, prev_group, delta_depth) VALUES (?, NULL, 0)').run(roomId).lastInsertRowid);
    const insertEntry = this.prep('INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES (?, ?, ?, ?)');
    for (const [k, v] of map) {
      const [type, stateKey] = splitStateKey(k);
      insertEntry.run(id, type, stateKey, v);
    }
    this.groups.set(id, map);
    this.depths.set(id, 0);
    return id;
  }

  private depthOf(group: number): number {
    let d = this.depths.get(group);
    if (d === undefined) {
      d = (this.prep('SELECT delta_depth FROM state_groups WHERE id = ?').get(group) as { delta_depth: number }).delta_depth;
      this.depths.set(group, d);
    }
    return d;
  }

  private loadGroup(group: number): StateMap {
    const cached = this.groups.get(group);
    if (cached) return cached;
    const chain: number[] = [];
    let map: StateMap = new Map();
    const prevOf = this.prep('SELECT prev_group FROM state_groups WHERE id = ?');
    for (let g: number | null = group; g !== null; ) {
      const hit = this.groups.get(g);
      if (hit) {
        map = hit;
        break;
      }
      chain.push(g);
      const row = prevOf.get(g) as { prev_group: number | null } | undefined;
      if (!row) throw new Error(`unknown state group ${g}`);
      g = row.prev_group;
    }
    // All the chain's deltas, oldest first, applied in one go: later entries override earlier ones.
    const entries = this.prep('SELECT type, state_key, event_id FROM state_group_entries WHERE state_group = ?');
    const changes: Array<readonly [string, string | null]> = [];
    for (const g of chain.reverse()) {
      for (const r of entries.all(g) as Array<{ type: string; state_key: string; event_id: string | null }>) {
        changes.push([stateKeyOf(r.type, r.state_key), r.event_id]);
      }
    }
    map = withStateChanges(map, changes);
    this.groups.set(group, map);
    return map;
  }

  // ---- event reads ----

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

  private fromRow(r: EventRow): StoredEvent {
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

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const r = this.prep('SELECT room_id, room_version, creator, is_public FROM rooms WHERE room_id = ?').get(roomId) as
      | { room_id: string; room_version: string; creator: string; is_public: number }
      | undefined;
    return r && { roomId: r.room_id, version: r.room_version, creator: r.creator, isPublic: r.is_public !== 0 };
  }

  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const cached = this.events.get(eventId);
    if (cached) return cached;
    const r = this.prep(`SELECT ${EVENT_COLS} FROM events WHERE event_id = ?`).get(eventId) as EventRow | undefined;
    return r && this.fromRow(r);
  }

  async getEvents(eventIds: readonly string[]): Promise<Map<string, StoredEvent>> {
    const found = new Map<string, StoredEvent>();
    const missing: string[] = [];
    for (const id of eventIds) {
      const cached = this.events.get(id);
      if (cached) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const rows = this.prep(`SELECT ${EVENT_COLS} FROM events WHERE event_id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(missing)) as EventRow[];
    for (const r of rows) found.set(r.event_id, this.fromRow(r));
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
    return rows.map((r) => this.fromRow(r));
  }

  // ---- state ----

  async getEventStateGroups(eventId: string): Promise<{ before: number; after: number } | undefined> {
    const cached = this.eventGroups.get(eventId);
    if (cached) return cached;
    const r = this.prep('SELECT state_group_before AS b, state_group_after AS a FROM events WHERE event_id = ?').get(eventId) as
      | { b: number | null; a: number | null }
      | undefined;
    if (!r || r.b === null || r.a === null) return undefined;
    const groups = { before: r.b, after: r.a };
    this.eventGroups.set(eventId, groups);
    return groups;
  }

  async getStateGroup(group: number): Promise<StateMap> {
    return this.loadGroup(group);
  }

  async getStateBefore(eventId: string): Promise<StateMap | undefined> {
    const g = await this.getEventStateGroups(eventId);
    return g && this.loadGroup(g.before);
  }

  async getStateAfter(eventId: string): Promise<StateMap | undefined> {
    const g = await this.getEventStateGroups(eventId);
    return g && this.loadGroup(g.after);
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
    return r && this.fromRow(r);
  }

  async getForwardExtremities(roomId: string): Promise<string[]> {
    const rows = this.prep(
        `SELECT f.event_id FROM forward_extremities f JOIN events e ON e.event_id = f.event_id
         WHERE f.room_id = ? ORDER BY e.depth DESC, e.stream_ordering DESC`,
      )
      .all(roomId) as Array<{ event_id: string }>;
    return rows.map((r) => r.event_id);
  }

  // ---- memberships ----

  async getMembership(roomId: string, userId: string): Promise<MembershipRecord | undefined> {
    const r = this.prep('SELECT * FROM room_memberships WHERE room_id = ? AND user_id = ?').get(roomId, userId) as
      | MembershipRow
      | undefined;
    return r && toMembership(r);
  }

  async getRoomsForUser(userId: string, memberships?: readonly string[]): Promise<MembershipRecord[]> {
    const rows = this.prep('SELECT * FROM room_memberships WHERE user_id = ? ORDER BY stream_ordering')
      .all(userId) as MembershipRow[];
    return rows.filter((r) => !memberships || memberships.includes(r.membership)).map(toMembership);
  }

  async getJoinedServers(roomId: string): Promise<string[]> {
    const rows = this.prep(
      `SELECT DISTINCT substr(user_id, instr(user_id, ':') + 1) AS server FROM room_memberships
       WHERE room_id = ? AND membership = 'join' AND instr(user_id, ':') > 0 ORDER BY server`,
    ).all(roomId) as Array<{ server: string }>;
    return rows.map((r) => r.server);
  }

  async hasJoinedMemberOn(roomId: string, server: string): Promise<boolean> {
    const row = this.prep(
      `SELECT 1 FROM room_memberships WHERE room_id = ? AND membership = 'join' AND substr(user_id, instr(user_id, ':') + 1) = ? LIMIT 1`,
    ).get(roomId, server);
    return row !== undefined;
  }

  async getRoomMembers(roomId: string, memberships?: readonly string[]): Promise<MembershipRecord[]> {
    const rows = this.prep('SELECT * FROM room_memberships WHERE room_id = ? ORDER BY user_id')
      .all(roomId) as MembershipRow[];
    return rows.filter((r) => !memberships || memberships.includes(r.membership)).map(toMembership);
  }

  async getMembershipChanges(userId: string, fromStream: number, toStream: number): Promise<MembershipRecord[]> {
    const rows = this.prep(
        `SELECT room_id, event_id, stream_ordering, pdu FROM events
         WHERE state_key = ? AND type = 'm.room.member' AND stream_ordering > ? AND stream_ordering <= ? AND ${TIMELINE}
         ORDER BY stream_ordering`,
      )
      .all(userId, fromStream, toStream) as Array<{ room_id: string; event_id: string; stream_ordering: number; pdu: string }>;
    return rows.map((r) => {
      const m = (JSON.parse(r.pdu) as Pdu).content.membership;
      return {
        roomId: r.room_id,
        userId,
        membership: typeof m === 'string' ? m : 'leave',
        eventId: r.event_id,
        streamOrdering: r.stream_ordering,
        forgotten: false,
      };
    });
  }

  async forgetRoom(userId: string, roomId: string): Promise<void> {
    this.prep('UPDATE room_memberships SET forgotten = 1 WHERE room_id = ? AND user_id = ?').run(roomId, userId);
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
    return r && this.fromRow(r);
  }

  async getRedactedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = this.prep('SELECT DISTINCT redacts FROM redactions WHERE redacts IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(JSON.stringify(eventIds)) as string[];
    return new Set(rows);
  }

  // ---- timeline reads ----

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
    return rows.map((r) => this.fromRow(r));
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
    return rows.map((r) => this.fromRow(r));
  }

  async getRoomsChangedBetween(fromExclusive: number, toInclusive: number): Promise<{ rooms: Set<string>; memberEvents: boolean }> {
    if (toInclusive <= fromExclusive) return { rooms: new Set(), memberEvents: false };
    const rows = this.prep(
        `SELECT room_id, MAX(type = 'm.room.member') AS m FROM events WHERE stream_ordering > ? AND stream_ordering <= ?
         GROUP BY room_id`,
      )
      .all(fromExclusive, toInclusive) as Array<{ room_id: string; m: number }>;
    return { rooms: new Set(rows.map((r) => r.room_id)), memberEvents: rows.some((r) => r.m === 1) };
  }

  async getEventsInRooms(roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<StoredEvent[]> {
    const rows = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE room_id IN (SELECT value FROM json_each(?))
           AND stream_ordering > ? AND stream_ordering <= ? AND ${TIMELINE} ORDER BY stream_ordering`,
      )
      .all(JSON.stringify(roomIds), fromExclusive, toInclusive) as EventRow[];
    return rows.map((r) => this.fromRow(r));
  }

  async getRoomEventsByTimestamp(roomId: string, ts: number, dir: Direction, limit: number): Promise<StoredEvent[]> {
    const cmp = dir === 'b' ? '<=' : '>=';
    const order = dir === 'b' ? 'DESC' : 'ASC';
    const rows = this.prep(
        `SELECT ${EVENT_COLS} FROM events WHERE room_id = ? AND origin_server_ts ${cmp} ? AND ${TIMELINE}
         ORDER BY origin_server_ts ${order}, stream_ordering ${order} LIMIT ?`,
      )
      .all(roomId, ts, limit) as EventRow[];
    return rows.map((r) => this.fromRow(r));
  }
}
