/**
 * SQLite implementation of the event graph storage (see src/storage/event-store.ts and the
 * `002-rooms` migration for the schema). Writes go through `persistEvent`, one transaction;
 * the work is split by concern: event-writes.ts, state-groups.ts, event-reads.ts,
 * membership-queries.ts, with event-rows.ts decoding (and caching) event rows for all of them.
 */
import type Database from 'better-sqlite3';
import type { StateMap } from '../../core/pdu.js';
import type {
  Direction,
  EventStore,
  MembershipRecord,
  PersistEventInput,
  PersistedChain,
  PersistOptions,
  PersistedEvent,
  RoomRecord,
  RoomsChanged,
  StoredEvent,
  TopologicalToken,
} from '../event-store.js';
import { SqliteEventReads } from './event-reads.js';
import { EventRows } from './event-rows.js';
import { EventWriter } from './event-writes.js';
import { putInboundTxn } from './federation-queue-store.js';
import { GroupCommit } from './group-commit.js';
import { SqliteMembershipQueries } from './membership-queries.js';
import { type Prepare, statementCache } from './statement-cache.js';
import { SqliteStateGroups } from './state-groups.js';
import { WalSync } from './wal-sync.js';

export { MAX_STATE_DELTA_DEPTH } from './state-groups.js';

export class SqliteEventStore implements EventStore {
  private readonly rows: EventRows;
  private readonly groups: SqliteStateGroups;
  private readonly reads: SqliteEventReads;
  private readonly members: SqliteMembershipQueries;
  private readonly commits: GroupCommit;
  private readonly prep: Prepare;
  /** One event's writes as a savepoint inside the group transaction, so a failure undoes exactly that event. */
  private readonly persistOne: (input: PersistEventInput) => PersistedEvent;
  private readonly walSync: WalSync | undefined;

  constructor(db: Database.Database) {
    const prep = statementCache(db);
    this.prep = prep;
    this.rows = new EventRows(prep);
    this.groups = new SqliteStateGroups(prep);
    this.reads = new SqliteEventReads(prep, this.rows);
    this.members = new SqliteMembershipQueries(prep);
    const writer = new EventWriter(prep, this.rows, this.groups);
    this.walSync = db.memory ? undefined : new WalSync(`${db.name}-wal`);
    this.commits = new GroupCommit(db, { onRollback: () => this.dropCaches(), walSync: this.walSync });
    this.persistOne = db.transaction((input: PersistEventInput) => writer.persist(input));
  }

  // ---- writes ----

  async persistEvent(input: PersistEventInput): Promise<PersistedEvent> {
    const r = await this.persistEvents([input]);
    if (r.error !== undefined) throw r.error;
    return r.persisted[0];
  }

  async persistEvents(inputs: readonly PersistEventInput[], opts: PersistOptions = {}): Promise<PersistedChain> {
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
      // Should this write fail, the unit's savepoint undoes the events too: the caller sees an error for all of them.
      if (opts.inboundTxn) putInboundTxn(this.prep, opts.inboundTxn);
      return { persisted, inboundTxnStored: opts.inboundTxn !== undefined };
    });
    // Committed now: cache them for the reads that follow (the next event's checks cite them).
    chain.persisted.forEach((p, i) => {
      const input = inputs[i];
      this.rows.remember({
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

  /** Waits for the WAL syncs of committed groups, then lets go of the WAL file (after the database closed). */
  async closeWal(): Promise<void> {
    await this.walSync?.close();
  }

  /**
   * Rolled-back writes may have filled the caches, and their row IDs (state groups) will be
   * handed out again: forget everything rather than serve a state that was never committed.
   */
  private dropCaches(): void {
    this.rows.clear();
    this.groups.clear();
  }

  // ---- events ----

  getRoom(roomId: string): Promise<RoomRecord | undefined> {
    return this.reads.getRoom(roomId);
  }
  getEvent(eventId: string): Promise<StoredEvent | undefined> {
    return this.reads.getEvent(eventId);
  }
  getEvents(eventIds: readonly string[]): Promise<Map<string, StoredEvent>> {
    return this.reads.getEvents(eventIds);
  }
  getAuthChain(eventIds: readonly string[]): Promise<StoredEvent[]> {
    return this.reads.getAuthChain(eventIds);
  }

  // ---- state ----

  getEventStateGroups(eventId: string): Promise<{ before: number; after: number } | undefined> {
    return this.groups.getEventStateGroups(eventId);
  }
  getStateGroup(group: number): Promise<StateMap> {
    return this.groups.getStateGroup(group);
  }
  getStateBefore(eventId: string): Promise<StateMap | undefined> {
    return this.groups.getStateBefore(eventId);
  }
  getStateAfter(eventId: string): Promise<StateMap | undefined> {
    return this.groups.getStateAfter(eventId);
  }
  getCurrentState(roomId: string): Promise<StateMap> {
    return this.reads.getCurrentState(roomId);
  }
  getCurrentStateEntries(roomId: string, keys: ReadonlyArray<readonly [string, string]>): Promise<StateMap> {
    return this.reads.getCurrentStateEntries(roomId, keys);
  }
  getCurrentStateEvent(roomId: string, type: string, stateKey: string): Promise<StoredEvent | undefined> {
    return this.reads.getCurrentStateEvent(roomId, type, stateKey);
  }
  getForwardExtremities(roomId: string): Promise<string[]> {
    return this.reads.getForwardExtremities(roomId);
  }

  // ---- memberships ----

  getMembership(roomId: string, userId: string): Promise<MembershipRecord | undefined> {
    return this.members.getMembership(roomId, userId);
  }
  getRoomsForUser(userId: string, memberships?: readonly string[]): Promise<MembershipRecord[]> {
    return this.members.getRoomsForUser(userId, memberships);
  }
  getJoinedServers(roomId: string): Promise<string[]> {
    return this.members.getJoinedServers(roomId);
  }
  hasJoinedMemberOn(roomId: string, server: string): Promise<boolean> {
    return this.members.hasJoinedMemberOn(roomId, server);
  }
  getRoomMembers(roomId: string, memberships?: readonly string[]): Promise<MembershipRecord[]> {
    return this.members.getRoomMembers(roomId, memberships);
  }
  getMembershipChanges(userId: string, fromStream: number, toStream: number): Promise<MembershipRecord[]> {
    return this.members.getMembershipChanges(userId, fromStream, toStream);
  }
  forgetRoom(userId: string, roomId: string): Promise<void> {
    return this.members.forgetRoom(userId, roomId);
  }

  // ---- transactions and redactions ----

  getTxnEvent(userId: string, deviceId: string, txnId: string): Promise<string | undefined> {
    return this.reads.getTxnEvent(userId, deviceId, txnId);
  }
  getTxnForEvent(eventId: string): Promise<{ userId: string; deviceId: string; txnId: string } | undefined> {
    return this.reads.getTxnForEvent(eventId);
  }
  getRedactionOf(eventId: string): Promise<StoredEvent | undefined> {
    return this.reads.getRedactionOf(eventId);
  }
  getRedactedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    return this.reads.getRedactedAmong(eventIds);
  }

  // ---- timelines ----

  getMaxStreamOrdering(): Promise<number> {
    return this.reads.getMaxStreamOrdering();
  }
  getRoomEventsByStream(roomId: string, fromExclusive: number, toInclusive: number, limit: number, dir: Direction): Promise<StoredEvent[]> {
    return this.reads.getRoomEventsByStream(roomId, fromExclusive, toInclusive, limit, dir);
  }
  getRoomEventsByTopology(roomId: string, from: TopologicalToken | undefined, dir: Direction, limit: number): Promise<StoredEvent[]> {
    return this.reads.getRoomEventsByTopology(roomId, from, dir, limit);
  }
  getRoomsChangedBetween(fromExclusive: number, toInclusive: number): Promise<RoomsChanged> {
    return this.reads.getRoomsChangedBetween(fromExclusive, toInclusive);
  }
  getEventsInRooms(roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<StoredEvent[]> {
    return this.reads.getEventsInRooms(roomIds, fromExclusive, toInclusive);
  }
  getRoomEventsByTimestamp(roomId: string, ts: number, dir: Direction, limit: number): Promise<StoredEvent[]> {
    return this.reads.getRoomEventsByTimestamp(roomId, ts, dir, limit);
  }
}
