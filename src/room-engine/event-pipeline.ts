/**
 * The one way in for room events, local or remote: check → persist → announce.
 *
 * The checks (event-checks.ts) say what to store for an event, against the state before it
 * (state-before.ts); the commit writes the result in one storage transaction and only then
 * announces it, so a client is never told about an event that a crash could lose. A federation
 * transaction's PDUs go through `acceptBatch`: checked in turn over the events not stored yet
 * (pending-batch.ts), stored together.
 */
import { checkContentHash } from '../core/event-hashes.js';
import { toRoomEvent, validatePdu } from '../core/event-format.js';
import type { StateMap } from '../core/pdu.js';
import { redactPdu } from '../core/redaction.js';
import type { RoomVersion } from '../rooms/versions.js';
import type { EventStore, PersistedChain, PersistOptions } from '../storage/event-store.js';
import { checkEventAuth } from './core-rules.js';
import { EventChecks, lookupIn } from './event-checks.js';
import type { KeyRing } from './key-ring.js';
import { PendingBatch, type PendingState } from './pending-batch.js';
import {
  type AcceptOptions,
  type BatchItem,
  type BatchOptions,
  type BatchResult,
  type CheckedEvent,
  NEEDS_STORE,
  type PersistedListener,
  type PersistedRoomEvent,
  type PipelineOutcome,
  type ResolvedState,
  type StateOutcome,
} from './pipeline-types.js';
import { KeyedQueue } from './room-queue.js';
import { StateBefore } from './state-before.js';

export type {
  AcceptOptions,
  BatchItem,
  BatchOptions,
  BatchResult,
  CheckedEvent,
  EventOrigin,
  PersistedListener,
  PersistedRoomEvent,
  PipelineOutcome,
  ResolvedState,
} from './pipeline-types.js';

export class EventPipeline {
  private readonly queue = new KeyedQueue();
  private readonly listeners: PersistedListener[] = [];
  private readonly states: StateBefore;
  private readonly checks: EventChecks;

  constructor(
    private readonly store: EventStore,
    keyRing: KeyRing,
  ) {
    this.states = new StateBefore(store);
    this.checks = new EventChecks(store, keyRing, this.states);
  }

  /** Registers a hook run after commit for each event that entered a room's timeline (notifier, federation sender). */
  onPersisted(listener: PersistedListener): void {
    this.listeners.push(listener);
  }

  /** Runs `task` while holding the room's write lock. Tasks that persist must use `acceptLocked` inside it. */
  exclusive<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    return this.queue.run(roomId, task);
  }

  /** Checks and stores an event (taking the room's write lock). */
  async accept(raw: unknown, version: RoomVersion, opts: AcceptOptions): Promise<PipelineOutcome> {
    const roomId = roomIdOf(raw);
    return this.queue.run(roomId, () => this.acceptLocked(raw, version, opts));
  }

  async acceptLocked(raw: unknown, version: RoomVersion, opts: AcceptOptions): Promise<PipelineOutcome> {
    const [outcome] = await this.commit([await this.check(raw, version, opts)]);
    return outcome;
  }

  /**
   * Checks several events (e.g. the PDUs of one federation transaction, in order) and stores
   * them in one storage call, holding the write locks of all their rooms. Each is checked as if
   * the ones before it had been stored already: it may cite them as prev or auth events and is
   * soft-fail checked against the current state they leave. An event whose check needs a state
   * resolution over events not stored yet (a fork within the batch) has the batch so far stored
   * first. One outcome per item, in order.
   *
   * With `inboundTxn`, the record it builds from the outcomes (as they stand once every write is
   * stored) goes into the same storage transaction as the batch's last writes; `inboundTxnStored`
   * says whether it was stored (not when that transaction failed).
   */
  async acceptBatch(items: readonly BatchItem[], opts: BatchOptions = {}): Promise<BatchResult> {
    const rooms = [...new Set(items.map((it) => roomIdOf(it.raw)))].sort();
    return this.exclusiveAll(rooms, async () => {
      const outcomes: PipelineOutcome[] = new Array(items.length);
      let batch = new PendingBatch(this.store);
      let checked: CheckedEvent[] = [];
      let at: number[] = [];
      const store = async (persistOpts: PersistOptions = {}) => {
        const stored = await this.persist(checked, persistOpts);
        stored.outcomes.forEach((o, j) => {
          outcomes[at[j]] = o;
        });
        batch = new PendingBatch(this.store);
        checked = [];
        at = [];
        return stored.chain;
      };
      for (const [i, it] of items.entries()) {
        let c = await this.checks.check(it.raw, it.version, it.opts, batch);
        if (c === NEEDS_STORE) {
          await store();
          c = (await this.checks.check(it.raw, it.version, it.opts, batch)) as CheckedEvent;
        }
        if (c.write === undefined) {
          outcomes[i] = c.outcome;
          continue;
        }
        await batch.add(c.write, c.before && pendingState(c.before));
        checked.push(c);
        at.push(i);
      }
      if (!opts.inboundTxn) {
        await store();
        return { outcomes, inboundTxnStored: false };
      }
      // The outcomes the writes get once stored: only the stream orderings are still to come.
      const expected = [...outcomes];
      checked.forEach((c, j) => {
        expected[at[j]] = c.outcome;
      });
      const chain = await store({ inboundTxn: opts.inboundTxn(expected) });
      return { outcomes, inboundTxnStored: chain.inboundTxnStored === true };
    });
  }

  /** Runs `task` holding the write locks of all `roomIds` (sorted, so two batches never wait on each other crosswise). */
  private exclusiveAll<T>(roomIds: readonly string[], task: () => Promise<T>): Promise<T> {
    const [first, ...rest] = roomIds;
    if (first === undefined) return task();
    return this.queue.run(first, () => this.exclusiveAll(rest, task));
  }

  /**
   * Checks an event without storing anything. The result goes to `commit`, alone or as part of a
   * chain of one room's events (the room's write lock held throughout).
   */
  async check(raw: unknown, version: RoomVersion, opts: AcceptOptions): Promise<CheckedEvent> {
    return (await this.checks.check(raw, version, opts, undefined)) as CheckedEvent;
  }

  /**
   * Stores checked events of one room in order, in one storage call (which the store may commit
   * together with other rooms' writes), then announces those that entered the timeline. Checked
   * events that need no write pass through. If the store fails part-way, the failed event and the
   * rest of the chain come back as `error` (they may build on the failed one).
   */
  async commit(checked: readonly CheckedEvent[]): Promise<PipelineOutcome[]> {
    return (await this.persist(checked, {})).outcomes;
  }

  /** `commit`, with what the store answered. A record in `opts` is stored even when no event is to be. */
  private async persist(checked: readonly CheckedEvent[], opts: PersistOptions): Promise<{ outcomes: PipelineOutcome[]; chain: PersistedChain }> {
    const writes = checked.filter((c) => c.write !== undefined);
    let chain: PersistedChain;
    try {
      chain = writes.length === 0 && !opts.inboundTxn ? { persisted: [] } : await this.store.persistEvents(writes.map((c) => c.write!), opts);
    } catch (error) {
      chain = { persisted: [], error };
    }
    const reason = chain.error instanceof Error ? chain.error.message : String(chain.error);
    let i = 0;
    const outcomes: PipelineOutcome[] = [];
    for (const c of checked) {
      if (c.write === undefined) {
        outcomes.push(c.outcome);
        continue;
      }
      const persisted = chain.persisted[i++];
      if (persisted === undefined) {
        outcomes.push({ status: 'error', event: c.write.event, reason: `not stored: ${reason}` });
        continue;
      }
      const outcome = 'streamOrdering' in c.outcome ? { ...c.outcome, streamOrdering: persisted.streamOrdering } : c.outcome;
      outcomes.push(outcome);
      if (c.announce) {
        const announced: PersistedRoomEvent = { event: c.write.event, streamOrdering: persisted.streamOrdering, ...c.announce };
        for (const l of this.listeners) l(announced);
      }
    }
    return { outcomes, chain };
  }

  /**
   * Stores a remote event with no known state around it (an outlier: state or auth events fetched
   * over federation to fill a gap). Checked for format, signatures and content hash (a mismatch
   * redacts it) and, when its auth events are known, against them; it never enters the timeline or
   * the current state.
   */
  async acceptOutlier(raw: unknown, version: RoomVersion): Promise<PipelineOutcome> {
    const valid = validatePdu(raw, version);
    if (!valid.ok) return { status: 'invalid', reason: valid.reason };
    let pdu = valid.value;
    let event = toRoomEvent(pdu, version);
    const existing = await this.store.getEvent(event.eventId);
    if (existing) return { status: 'duplicate', event: existing.event, streamOrdering: existing.streamOrdering };
    const sigs = await this.checks.signatures(event, version);
    if (!sigs.ok) return { status: 'invalid', reason: sigs.reason };
    if (!checkContentHash(pdu)) {
      pdu = redactPdu(pdu, version);
      event = toRoomEvent(pdu, version);
    }
    const authMap = await this.store.getEvents(event.authEventIds);
    let rejectedReason: string | undefined;
    if (authMap.size === event.authEventIds.length) {
      const authEvents = event.authEventIds.map((id) => authMap.get(id)!.event);
      if (version.roomIdFromCreateEvent && event.type !== 'm.room.create') {
        const create = await this.store.getEvent(`$${event.roomId.slice(1)}`);
        if (create) authEvents.push(create.event);
      }
      const r = checkEventAuth(version, event, lookupIn(authEvents));
      if (!r.allowed) rejectedReason = r.reason;
    }
    const persisted = await this.store.persistEvent({ event, outlier: true, rejectedReason });
    if (rejectedReason !== undefined) return { status: 'rejected', event, reason: rejectedReason };
    return { status: 'persisted', event, streamOrdering: persisted.streamOrdering };
  }

  /** The state before an event: the state after its single prev event, or the resolution of several. */
  stateBeforeFromPrevs(event: { type: string; prevEventIds: readonly string[] }, version: RoomVersion): Promise<StateOutcome> {
    return this.states.fromPrevs(event, version);
  }

  /** Resolves the states after the given events (e.g. the forward extremities). */
  resolveStatesAfter(eventIds: readonly string[], version: RoomVersion): Promise<StateOutcome> {
    return this.states.afterEvents(eventIds, version);
  }

  /** Resolves state sets (e.g. states fetched over federation at a gap in the graph). */
  resolveStates(maps: StateMap[], version: RoomVersion): Promise<StateMap> {
    return this.states.resolve(maps, version);
  }
}

function pendingState(s: ResolvedState): PendingState {
  return { map: s.map, group: s.group, baseGroup: s.baseGroup };
}

function roomIdOf(raw: unknown): string {
  const r = (raw as { room_id?: unknown } | null)?.room_id;
  return typeof r === 'string' ? r : '';
}
