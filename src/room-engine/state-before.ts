/**
 * The states the pipeline checks an event against and the room's current state after it: the
 * state after the event's prev events (resolved when they are several), read from the store or,
 * inside a batch, from the events checked before it but not stored yet. A resolution reads its
 * events from the store, so one over pending events answers NEEDS_STORE instead.
 */
import type { RoomEvent, StateMap } from '../core/pdu.js';
import { stateKeyOf } from '../core/pdu.js';
import type { RoomVersion } from '../rooms/versions.js';
import type { EventStore } from '../storage/event-store.js';
import { resolveState } from './core-rules.js';
import type { PendingBatch } from './pending-batch.js';
import { NEEDS_STORE, type NeedsStore, type StateOutcome } from './pipeline-types.js';

type StateReads = Pick<EventStore, 'getEventStateGroups' | 'getStateGroup' | 'getStateAfter' | 'getEvents' | 'getAuthChain'>;

/** How an event changes the room's current state: a whole new state, or entries on top of it. */
export type CurrentStateChange = { full?: StateMap; delta?: ReadonlyMap<string, string> };

export class StateBefore {
  constructor(private readonly store: StateReads) {}

  /** The state before an event: the state after its single prev event, or the resolution of several. */
  async fromPrevs(event: { type: string; prevEventIds: readonly string[] }, version: RoomVersion): Promise<StateOutcome> {
    if (event.prevEventIds.length === 0) {
      if (event.type === 'm.room.create') return { ok: true, state: { map: new Map(), group: undefined } };
      return { ok: false, reason: 'event has no prev_events' };
    }
    return this.afterEvents(event.prevEventIds, version);
  }

  /**
   * The state before an event citing events of the batch: the state after its one prev event.
   * Several prev events would need a resolution over events not stored yet: the batch is stored first.
   */
  afterPending(event: RoomEvent, batch: PendingBatch): StateOutcome | NeedsStore {
    if (event.prevEventIds.length !== 1) return NEEDS_STORE;
    const prev = event.prevEventIds[0];
    const after = batch.stateAfter(prev);
    if (!after) return { ok: false, reason: `state after prev event ${prev} is not known` };
    return { ok: true, state: after };
  }

  /** Resolves the states after the given events (e.g. the forward extremities). */
  async afterEvents(eventIds: readonly string[], version: RoomVersion): Promise<StateOutcome> {
    const groups: number[] = [];
    for (const id of eventIds) {
      const g = await this.store.getEventStateGroups(id);
      // Backfilling unknown prev events is federation's job; until then they cannot be used.
      if (!g) return { ok: false, reason: `state after prev event ${id} is not known` };
      if (!groups.includes(g.after)) groups.push(g.after);
    }
    if (groups.length === 1) return { ok: true, state: { map: await this.store.getStateGroup(groups[0]), group: groups[0] } };
    const maps = await Promise.all(groups.map((g) => this.store.getStateGroup(g)));
    return { ok: true, state: { map: await this.resolve(maps, version), group: undefined } };
  }

  /** Resolves state sets. `pending` is the event being accepted: part of a state set but not stored yet. */
  async resolve(maps: StateMap[], version: RoomVersion, pending?: RoomEvent): Promise<StateMap> {
    const ids = new Set<string>();
    for (const m of maps) for (const id of m.values()) ids.add(id);
    const events = await this.store.getEvents([...ids]);
    const lookup = new Map<string, RoomEvent>();
    for (const e of await this.store.getAuthChain([...ids, ...(pending?.authEventIds ?? [])])) lookup.set(e.event.eventId, e.event);
    for (const [id, e] of events) lookup.set(id, e.event);
    if (pending) lookup.set(pending.eventId, pending);
    const rejected = (id: string) => events.get(id)?.rejectedReason !== undefined;
    return resolveState(version, maps, (id) => lookup.get(id), { isRejected: rejected });
  }

  /**
   * How the room's current state changes. In the common case the event's prev events are exactly
   * the forward extremities, so the current state was the state before the event and only the
   * event itself changes it; otherwise the states at all remaining extremities are resolved.
   */
  async currentStateChange(
    event: RoomEvent,
    before: StateMap,
    version: RoomVersion,
    extremities: readonly string[],
    unstoredEvents: boolean,
  ): Promise<CurrentStateChange | undefined | NeedsStore> {
    const key = event.stateKey === undefined ? undefined : stateKeyOf(event.type, event.stateKey);
    const prevs = new Set(event.prevEventIds);
    if (extremities.length === prevs.size && extremities.every((id) => prevs.has(id))) {
      return key === undefined ? undefined : { delta: new Map([[key, event.eventId]]) };
    }
    const after = new Map(before);
    if (key !== undefined) after.set(key, event.eventId);
    const others = extremities.filter((id) => !prevs.has(id) && id !== event.eventId);
    if (others.length === 0) return { full: after };
    // The resolution reads the events of both states from the store.
    if (unstoredEvents) return NEEDS_STORE;
    const maps: StateMap[] = [after];
    for (const id of others) {
      const s = await this.store.getStateAfter(id);
      if (s) maps.push(s);
    }
    return { full: await this.resolve(maps, version, event) };
  }
}
