import type { RoomVersion } from '../../rooms/versions.js';
import type { EventLookup } from '../auth-chain.js';
import type { AuthStateLookup } from '../auth/index.js';
import { type RoomEvent, type StateKey, type StateMap, stateKeyOf } from '../pdu.js';

export interface ResolveOptions {
  /** Events rejected on receipt: never used as auth events during the iterative auth checks. */
  isRejected?: (eventId: string) => boolean;
}

export const POWER_LEVELS_KEY: StateKey = stateKeyOf('m.room.power_levels', '');

const notRejected = (): boolean => false;

export function rejectedPredicate(opts: ResolveOptions | undefined): (eventId: string) => boolean {
  return opts?.isRejected ?? notRejected;
}

/**
 * A power event (state res v2): an event that might remove someone's ability to act — power
 * levels, join rules, or a kick/ban (membership leave or ban sent by someone else).
 */
export function isPowerEvent(ev: RoomEvent): boolean {
  if (ev.stateKey === undefined) return false;
  if (ev.type === 'm.room.power_levels' || ev.type === 'm.room.join_rules') return true;
  if (ev.type !== 'm.room.member') return false;
  const m = ev.content.membership;
  return (m === 'leave' || m === 'ban') && ev.sender !== ev.stateKey;
}

/**
 * The v2 split of several states: keys present in every state with the same value form the
 * unconflicted map; every value of any other key is conflicted.
 */
export function partitionStates(stateSets: readonly StateMap[]): {
  unconflicted: Map<StateKey, string>;
  conflicted: Map<StateKey, Set<string>>;
} {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, Set<string>>();
  const first = stateSets[0];
  for (const [key, id] of first) {
    let same = true;
    for (let i = 1; i < stateSets.length; i++) {
      if (stateSets[i].get(key) !== id) {
        same = false;
        break;
      }
    }
    if (same) {
      unconflicted.set(key, id);
      continue;
    }
    const values = new Set<string>();
    for (const s of stateSets) {
      const v = s.get(key);
      if (v !== undefined) values.add(v);
    }
    conflicted.set(key, values);
  }
  // Keys missing from the first state are conflicted by definition.
  for (let i = 1; i < stateSets.length; i++) {
    for (const [key, id] of stateSets[i]) {
      if (first.has(key)) continue;
      let values = conflicted.get(key);
      if (!values) {
        values = new Set();
        conflicted.set(key, values);
      }
      values.add(id);
    }
  }
  return { unconflicted, conflicted };
}

/**
 * The lookup over an event's own auth events, as the auth rules see them. In room versions whose
 * room ID is derived from the create event, the create event is never cited but implied by the
 * room ID (`!x` ↔ `$x`), so it is supplied from there.
 */
export function ownAuthEvents(
  version: RoomVersion,
  ev: RoomEvent,
  lookup: EventLookup,
  isRejected: (eventId: string) => boolean,
): Map<StateKey, RoomEvent> {
  const own = new Map<StateKey, RoomEvent>();
  for (const id of ev.authEventIds) {
    if (isRejected(id)) continue;
    const a = lookup(id);
    if (a && a.stateKey !== undefined) own.set(stateKeyOf(a.type, a.stateKey), a);
  }
  if (version.roomIdFromCreateEvent && ev.type !== 'm.room.create') {
    const key = stateKeyOf('m.room.create', '');
    if (!own.has(key) && ev.roomId.startsWith('!')) {
      const createId = `$${ev.roomId.slice(1)}`;
      const create = isRejected(createId) ? undefined : lookup(createId);
      if (create) own.set(key, create);
    }
  }
  return own;
}

export function mapLookup(events: ReadonlyMap<StateKey, RoomEvent>): AuthStateLookup {
  return (type, stateKey) => events.get(stateKeyOf(type, stateKey));
}
