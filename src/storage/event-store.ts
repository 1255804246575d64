import type { RoomEvent, StateKey, StateMap } from '../core/pdu.js';
import type { InboundTxnRecord } from './federation-store.js';

/**
 * Storage of the room event graph: events, their prev/auth edges, state at every event (as
 * state groups), current state, memberships, forward extremities, transaction IDs and
 * redactions. Only the event pipeline writes here (`persistEvent`); every read path reads.
 */

export interface RoomsChanged {
  rooms: Set<string>;
  /** The rooms among them with an `m.room.member` event in the range. */
  memberRooms: Set<string>;
}

export interface StoredEvent {
  event: RoomEvent;
  /** Global position in the order this server persisted events (negative for backfilled history). */
  streamOrdering: number;
  /** Set if the event failed a check; rejected events never enter any state. */
  rejectedReason: string | undefined;
  /** Outliers are known events with no known state (e.g. auth events fetched over federation). */
  outlier: boolean;
  /** Passed the auth checks but failed against current state; kept out of timeline and current state. */
  softFailed: boolean;
}

export interface RoomRecord {
  roomId: string;
  version: string;
  creator: string;
  isPublic: boolean;
}

export interface MembershipRecord {
  roomId: string;
  userId: string;
  membership: string;
  eventId: string;
  streamOrdering: number;
  forgotten: boolean;
}

/** A state snapshot the pipeline hands to the store: an existing group, or a full map. */
export type StateInput =
  | { group: number }
  /** `baseGroup` is a group the map is probably close to; the store stores the difference. */
  | { map: StateMap; baseGroup?: number };

export interface PersistEventInput {
  event: RoomEvent;
  rejectedReason?: string;
  outlier?: boolean;
  softFailed?: boolean;
  /** Required unless the event is an outlier or rejected: the state before the event. */
  stateBefore?: StateInput;
  /**
   * The room's current state after this event, when it changes; undefined leaves it as is.
   * (Soft-failed and rejected events never change it.)
   */
  newCurrentState?: StateMap;
  /** Instead of `newCurrentState`: entries to set on top of the stored current state (the cheap common case). */
  currentStateDelta?: ReadonlyMap<StateKey, string>;
  /** A new room: its row is written in the same transaction as the create event. */
  newRoom?: { version: string; creator: string };
  /** Idempotency for client sends. */
  txn?: { userId: string; deviceId: string; txnId: string };
  /**
   * A historical event (backfill): placed in the graph without touching forward extremities or
   * current state, at a negative stream ordering (below everything else, so never "new").
   */
  backfilled?: boolean;
  /** The event is a redaction that takes effect on `redacts`. */
  effectiveRedaction?: boolean;
  /**
   * An outlier membership event of a local user in a room this server is not in (a remote
   * invite or knock, or the leave that rejects one): recorded as that user's membership so
   * /sync shows it, although the room has no current state here.
   */
  outOfRoomMembership?: boolean;
}

export interface PersistedEvent {
  streamOrdering: number;
  stateGroupBefore: number | undefined;
  stateGroupAfter: number | undefined;
}

/**
 * What became of a chain handed to `persistEvents`: `persisted[i]` belongs to input i. With
 * `error`, the input at `persisted.length` failed and neither it nor any input after it was stored.
 */
export interface PersistedChain {
  persisted: PersistedEvent[];
  error?: unknown;
  /** The `inboundTxn` record was stored, in the same transaction as the chain (which then failed nowhere). */
  inboundTxnStored?: boolean;
}

export interface PersistOptions {
  /**
   * A received federation transaction's answer, written in the same storage transaction as the
   * chain's events (one commit instead of two) once all of them are stored; not written when one
   * fails. The chain may be empty: then the record alone is written.
   */
  inboundTxn?: InboundTxnRecord;
}

export type Direction = 'f' | 'b';

/** A position in a room's topological order, for /messages-style paging. */
export interface TopologicalToken {
  depth: number;
  streamOrdering: number;
}

export interface EventStore {
  /** One transaction: event row, edges, state group(s), current state, memberships, extremities, txn, redaction. */
  persistEvent(input: PersistEventInput): Promise<PersistedEvent>;
  /**
   * Persists events of one room in order, each possibly building on those before it (as its prev
   * event, or its state). A failing event is not stored, nor is any after it; those before it are.
   * Resolves only once the events are durably committed; implementations may commit several
   * calls in one transaction (group commit).
   */
  persistEvents(inputs: readonly PersistEventInput[], opts?: PersistOptions): Promise<PersistedChain>;

  getRoom(roomId: string): Promise<RoomRecord | undefined>;
  getEvent(eventId: string): Promise<StoredEvent | undefined>;
  getEvents(eventIds: readonly string[]): Promise<Map<string, StoredEvent>>;
  /** All auth ancestors of the given events (not including the events themselves), as far as stored. */
  getAuthChain(eventIds: readonly string[]): Promise<StoredEvent[]>;

  /** State group IDs around an event; undefined for outliers, rejected and unknown events. */
  getEventStateGroups(eventId: string): Promise<{ before: number; after: number } | undefined>;
  getStateGroup(group: number): Promise<StateMap>;
  getStateBefore(eventId: string): Promise<StateMap | undefined>;
  getStateAfter(eventId: string): Promise<StateMap | undefined>;

  getCurrentState(roomId: string): Promise<StateMap>;
  /** Only the given entries of the current state (those present): for checks that consult a few keys of a large state. */
  getCurrentStateEntries(roomId: string, keys: ReadonlyArray<readonly [type: string, stateKey: string]>): Promise<StateMap>;
  getCurrentStateEvent(roomId: string, type: string, stateKey: string): Promise<StoredEvent | undefined>;
  getForwardExtremities(roomId: string): Promise<string[]>;

  getMembership(roomId: string, userId: string): Promise<MembershipRecord | undefined>;
  /** A user's current memberships (optionally only some kinds), with the stream position of each. */
  getRoomsForUser(userId: string, memberships?: readonly string[]): Promise<MembershipRecord[]>;
  /** Current members of a room (optionally only some kinds). */
  /** The servers (the part after the first ':' of a user ID) with at least one joined member, sorted; done in SQL for large rooms. */
  getJoinedServers(roomId: string): Promise<string[]>;
  /** Whether a user of `server` is joined to the room (without listing the members). */
  hasJoinedMemberOn(roomId: string, server: string): Promise<boolean>;
  getRoomMembers(roomId: string, memberships?: readonly string[]): Promise<MembershipRecord[]>;
  /** A user's membership events with stream positions in (fromStream, toStream], oldest first. */
  getMembershipChanges(userId: string, fromStream: number, toStream: number): Promise<MembershipRecord[]>;
  forgetRoom(userId: string, roomId: string): Promise<void>;

  getTxnEvent(userId: string, deviceId: string, txnId: string): Promise<string | undefined>;
  getTxnForEvent(eventId: string): Promise<{ userId: string; deviceId: string; txnId: string } | undefined>;
  /** The earliest effective redaction of an event, if any. */
  getRedactionOf(eventId: string): Promise<StoredEvent | undefined>;
  /** Which of the given events have an effective redaction (one query for many events). */
  getRedactedAmong(eventIds: readonly string[]): Promise<Set<string>>;

  /** Highest stream ordering persisted (0 when empty). */
  getMaxStreamOrdering(): Promise<number>;
  /**
   * Timeline events of a room in stream order within (fromExclusive, toInclusive]; `dir: 'b'`
   * returns the newest first. Excludes outliers, rejected and soft-failed events.
   */
  getRoomEventsByStream(
    roomId: string,
    fromExclusive: number,
    toInclusive: number,
    limit: number,
    dir: Direction,
  ): Promise<StoredEvent[]>;
  /** Timeline events of a room in topological order strictly after/before `from`. */
  getRoomEventsByTopology(
    roomId: string,
    from: TopologicalToken | undefined,
    dir: Direction,
    limit: number,
  ): Promise<StoredEvent[]>;
  /**
   * The rooms with any event (timeline or not) within the stream range (fromExclusive, toInclusive]:
   * a superset of the rooms whose timeline or state changed there (lets /sync skip the others).
   */
  getRoomsChangedBetween(fromExclusive: number, toInclusive: number): Promise<RoomsChanged>;
  /** Timeline events of all the given rooms within a stream range, oldest first. */
  getEventsInRooms(roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<StoredEvent[]>;
  /**
   * Timeline events of a room nearest a timestamp: `f` those with `origin_server_ts` >= `ts`
   * oldest first, `b` those with `origin_server_ts` <= `ts` newest first (ties by stream order).
   */
  getRoomEventsByTimestamp(roomId: string, ts: number, dir: Direction, limit: number): Promise<StoredEvent[]>;
}

export interface PublicRoomsPage {
  roomIds: string[];
  total: number;
}

/** Aliases and the published room directory. */
export interface RoomDirectoryStore {
  /** False if the alias already exists. */
  createAlias(alias: string, roomId: string, creator: string): Promise<boolean>;
  getAlias(alias: string): Promise<{ roomId: string; creator: string } | undefined>;
  deleteAlias(alias: string): Promise<boolean>;
  getAliasesForRoom(roomId: string): Promise<string[]>;
  setRoomPublic(roomId: string, isPublic: boolean): Promise<void>;
  listPublicRooms(): Promise<string[]>;
}
