/**
 * The event pipeline's vocabulary: what goes in (options, batch items), what comes out
 * (outcomes, announcements), and what a check hands to the commit. Callers import these through
 * event-pipeline.ts; the pipeline's own modules (checks, state before) import them from here.
 */
import type { RoomEvent, StateMap } from '../core/pdu.js';
import type { RoomVersion } from '../rooms/versions.js';
import type { PersistEventInput } from '../storage/event-store.js';
import type { InboundTxnRecord } from '../storage/federation-store.js';

export type EventOrigin = 'local' | 'remote';

export type PipelineOutcome =
  | { status: 'persisted'; event: RoomEvent; streamOrdering: number }
  /** Remote events only: stored, but kept out of the timeline and current state. */
  | { status: 'soft_failed'; event: RoomEvent; streamOrdering: number }
  /** Failed the auth checks; remote rejections are stored so they are not fetched again. */
  | { status: 'rejected'; event: RoomEvent; reason: string }
  | { status: 'duplicate'; event: RoomEvent; streamOrdering: number }
  /** Not a valid event at all (format or signatures): dropped, nothing stored. */
  | { status: 'invalid'; reason: string }
  /** Passed the checks but could not be stored (storage failure); nothing of it was stored. */
  | { status: 'error'; event: RoomEvent; reason: string };

/** An event that went through the checks: its outcome, and what to store (if anything) for it. */
export interface CheckedEvent {
  /** Final unless `write` is set; then its stream ordering is filled in once stored. */
  outcome: PipelineOutcome;
  write?: PersistEventInput;
  /** Set for events that enter the timeline once stored. */
  announce?: Omit<PersistedRoomEvent, 'event' | 'streamOrdering'>;
  /** The state the event was checked against (absent when it was refused before that). */
  before?: ResolvedState;
}

/** One event of a batch handed to `acceptBatch`. */
export interface BatchItem {
  raw: unknown;
  version: RoomVersion;
  opts: AcceptOptions;
}

export interface BatchOptions {
  /**
   * Builds a received federation transaction's answer from the batch's outcomes (one per item, as
   * they stand once stored), to be stored in the same storage transaction as the batch's last events.
   */
  inboundTxn?: (outcomes: readonly PipelineOutcome[]) => InboundTxnRecord;
}

export interface BatchResult {
  /** One per item, in order. */
  outcomes: PipelineOutcome[];
  /** The `inboundTxn` record was stored (with the batch's last events). */
  inboundTxnStored: boolean;
}

export interface AcceptOptions {
  origin: EventOrigin;
  /** The event is the `m.room.create` of a room this server is creating. */
  newRoom?: { creator: string };
  txn?: { userId: string; deviceId: string; txnId: string };
  /** The state before the event when the caller already computed it (the event creator does). */
  stateBefore?: ResolvedState;
  /**
   * A historical event fetched by backfill: it takes its place in the graph (with its state) but
   * is older than what the room has, so it is not soft-failed against the current state, changes
   * neither current state nor forward extremities, and is not announced as new.
   */
  backfilled?: boolean;
  /**
   * The room's forward extremities as they will stand once the events checked before this one in
   * the same chain are stored (the event creator chains several messages into one commit).
   * Default: as stored.
   */
  extremities?: readonly string[];
}

/** A state with, when it is stored as a group already, that group. */
export interface ResolvedState {
  map: StateMap;
  group: number | undefined;
  /** Without `group`: a stored group the state differs little from (stored as a delta on it). */
  baseGroup?: number;
}

/** The state before an event, or why it cannot be had. */
export type StateOutcome = { ok: true; state: ResolvedState } | { ok: false; reason: string };

export interface PersistedRoomEvent {
  event: RoomEvent;
  streamOrdering: number;
  version: RoomVersion;
  origin: EventOrigin;
  txn?: { userId: string; deviceId: string; txnId: string };
}

export type PersistedListener = (e: PersistedRoomEvent) => void;

/**
 * A check inside a batch whose answer needs a state resolution over events not stored yet: the
 * pipeline stores the batch so far and checks the event again. Internal to the pipeline's modules.
 */
export const NEEDS_STORE = Symbol('needs the batch stored first');
export type NeedsStore = typeof NEEDS_STORE;
