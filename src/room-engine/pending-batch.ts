/**
 * The events of one batch (the PDUs of a federation transaction) that passed their checks but
 * are not stored yet, laid over the store. A later event of the batch may cite them as prev or
 * auth events, and is checked against the extremities and current state they leave behind, as
 * if they had been stored one by one. What the view cannot answer exactly (a state resolution
 * over pending events) the pipeline does not ask it: it stores the batch so far first.
 */
import type { StateKey, StateMap } from '../core/pdu.js';
import { stateKeyOf } from '../core/pdu.js';
import type { EventStore, PersistEventInput, StoredEvent } from '../storage/event-store.js';
import { withStateChanges } from '../storage/layered-state-map.js';

type StoreReads = Pick<EventStore, 'getEvent' | 'getEvents' | 'getForwardExtremities' | 'getCurrentStateEntries'>;

/** The state after a pending event, with the stored group it is closest to. */
export interface PendingState {
  map: StateMap;
  /** The state is exactly this stored group (the event and those before it in the batch changed no state). */
  group: number | undefined;
  /** Otherwise: a stored group the state differs little from, for storing it as a delta. */
  baseGroup: number | undefined;
}

interface RoomOverlay {
  extremities?: string[];
  /** The whole current state, when a pending event replaced it (a fork merged). */
  full?: StateMap;
  /** Entries changed on top of `full`, or of the stored current state. */
  delta: Map<StateKey, string>;
}

export class PendingBatch {
  private readonly events = new Map<string, StoredEvent>();
  private readonly after = new Map<string, PendingState>();
  private readonly rooms = new Map<string, RoomOverlay>();

  constructor(private readonly store: StoreReads) {}

  get size(): number {
    return this.events.size;
  }

  isPending(eventId: string): boolean {
    return this.events.has(eventId);
  }

  /** The state after a pending event; undefined for events not pending and for pending ones without state (rejected). */
  stateAfter(eventId: string): PendingState | undefined {
    return this.after.get(eventId);
  }

  getEvent(eventId: string): Promise<StoredEvent | undefined> {
    const p = this.events.get(eventId);
    return p ? Promise.resolve(p) : this.store.getEvent(eventId);
  }

  async getEvents(eventIds: readonly string[]): Promise<Map<string, StoredEvent>> {
    const rest = eventIds.filter((id) => !this.events.has(id));
    const out = rest.length > 0 ? await this.store.getEvents(rest) : new Map<string, StoredEvent>();
    for (const id of eventIds) {
      const p = this.events.get(id);
      if (p) out.set(id, p);
    }
    return out;
  }

  async getForwardExtremities(roomId: string): Promise<string[]> {
    const ext = this.rooms.get(roomId)?.extremities;
    return ext ? [...ext] : this.store.getForwardExtremities(roomId);
  }

  async getCurrentStateEntries(roomId: string, keys: ReadonlyArray<readonly [string, string]>): Promise<StateMap> {
    const room = this.rooms.get(roomId);
    if (!room) return this.store.getCurrentStateEntries(roomId, keys);
    const out = new Map<StateKey, string>();
    const base = room.full ?? (await this.store.getCurrentStateEntries(roomId, keys));
    for (const [type, stateKey] of keys) {
      const key = stateKeyOf(type, stateKey);
      const id = room.delta.get(key) ?? base.get(key);
      if (id !== undefined) out.set(key, id);
    }
    return out;
  }

  /**
   * Records a checked event's write, with the state before it (as checked). Mirrors what the
   * store does on persisting: rejected events get no state; soft-failed ones get state but leave
   * extremities and current state alone; the others move the extremities and the current state.
   */
  async add(write: PersistEventInput, before: PendingState | undefined): Promise<void> {
    const ev = write.event;
    this.events.set(ev.eventId, {
      event: ev,
      streamOrdering: 0,
      rejectedReason: write.rejectedReason,
      outlier: write.outlier === true,
      softFailed: write.softFailed === true,
    });
    if (write.rejectedReason !== undefined || write.outlier === true || before === undefined) return;
    const after: PendingState =
      ev.stateKey === undefined
        ? before
        : {
            map: withStateChanges(before.map, [[stateKeyOf(ev.type, ev.stateKey), ev.eventId]]),
            group: undefined,
            baseGroup: before.group ?? before.baseGroup,
          };
    this.after.set(ev.eventId, after);
    if (write.softFailed === true || write.backfilled === true) return;

    const extremities = await this.getForwardExtremities(ev.roomId);
    const prevs = new Set(ev.prevEventIds);
    const room = this.rooms.get(ev.roomId) ?? { delta: new Map<StateKey, string>() };
    room.extremities = [...extremities.filter((id) => !prevs.has(id)), ev.eventId];
    if (write.newCurrentState) {
      room.full = write.newCurrentState;
      room.delta = new Map();
    } else if (write.currentStateDelta) {
      for (const [k, v] of write.currentStateDelta) room.delta.set(k, v);
    }
    this.rooms.set(ev.roomId, room);
  }
}
