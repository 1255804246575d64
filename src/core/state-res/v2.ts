import type { RoomVersion } from '../../rooms/versions.js';
import { authChain, type EventLookup } from '../auth-chain.js';
import { userPowerLevel } from '../auth/power-levels.js';
import type { RoomEvent, StateKey, StateMap } from '../pdu.js';
import {
  isPowerEvent,
  mapLookup,
  ownAuthEvents,
  POWER_LEVELS_KEY,
  partitionStates,
  type ResolveOptions,
  rejectedPredicate,
} from './common.js';
import { authDifference, conflictedSubgraph } from './conflicted-set.js';
import { iterativeAuthChecks } from './iterative-auth.js';
import { mainlineOrder, reverseTopologicalPowerOrder } from './ordering.js';

const noneRejected = (): boolean => false;

/**
 * State resolution v2 (room versions 2–11) and, with `v21`, its revision v2.1 (room version 12):
 * the full conflicted set also takes in the conflicted state subgraph, and the power events are
 * replayed from an empty state instead of the unconflicted state map.
 */
export function resolveV2(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  lookup: EventLookup,
  opts: ResolveOptions | undefined,
  v21: boolean,
): Map<StateKey, string> {
  const isRejected = rejectedPredicate(opts);
  const { unconflicted, conflicted } = partitionStates(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const conflictedIds = new Set<string>();
  for (const ids of conflicted.values()) for (const id of ids) conflictedIds.add(id);
  const full = v21 ? conflictedSubgraph(conflictedIds, lookup) : new Set(conflictedIds);
  for (const id of authDifference(stateSets, unconflicted, conflicted, lookup)) full.add(id);

  // Step 1: the power events of the full conflicted set, with their ancestors from that set.
  const powerIds = new Set<string>();
  for (const id of full) {
    const ev = lookup(id);
    if (ev && isPowerEvent(ev)) powerIds.add(id);
  }
  const powerSet = new Set(powerIds);
  for (const id of authChain(powerIds, lookup)) if (full.has(id)) powerSet.add(id);
  // The sender's power is read from the event's own auth events, rejected or not, as the spec
  // says; computed once per event.
  const senderPower = (ev: RoomEvent): number =>
    userPowerLevel(version, ev.sender, mapLookup(ownAuthEvents(version, ev, lookup, noneRejected)));
  const powerOrder = reverseTopologicalPowerOrder(powerSet, lookup, senderPower);

  // Step 2.
  const state = v21 ? new Map<StateKey, string>() : new Map(unconflicted);
  iterativeAuthChecks(version, powerOrder, state, lookup, isRejected);

  // Steps 3 and 4: everything else, in mainline order of the power levels resolved so far.
  const rest: string[] = [];
  for (const id of full) if (!powerSet.has(id)) rest.push(id);
  iterativeAuthChecks(version, mainlineOrder(rest, state.get(POWER_LEVELS_KEY), lookup), state, lookup, isRejected);

  // Step 5.
  for (const [key, id] of unconflicted) state.set(key, id);
  return state;
}
