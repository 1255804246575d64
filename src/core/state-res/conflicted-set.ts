import { authChain, authChainUntil, type EventLookup } from '../auth-chain.js';
import type { StateKey, StateMap } from '../pdu.js';

const EMPTY: ReadonlySet<string> = new Set();

/**
 * The auth difference: events in some but not all of the states' full auth chains. As in
 * Synapse (whose algorithm the spec describes), a state's full auth chain here includes the
 * state's own events; this only keeps unconflicted events out of the difference.
 *
 * The part every chain shares — the unconflicted events and their ancestry — is walked once;
 * each state then only walks its conflicted events up to that shared part, so a room with
 * thousands of unconflicted members costs one walk, not one per state.
 */
export function authDifference(
  stateSets: readonly StateMap[],
  unconflicted: ReadonlyMap<StateKey, string>,
  conflicted: ReadonlyMap<StateKey, ReadonlySet<string>>,
  lookup: EventLookup,
): Set<string> {
  const shared = authChainUntil(unconflicted.values(), lookup, EMPTY, true);
  const chains: Set<string>[] = stateSets.map((s) => {
    const own: string[] = [];
    for (const key of conflicted.keys()) {
      const id = s.get(key);
      if (id !== undefined) own.push(id);
    }
    return authChainUntil(own, lookup, shared, true);
  });
  const diff = new Set<string>();
  for (const chain of chains) {
    for (const id of chain) {
      if (diff.has(id)) continue;
      if (!chains.every((c) => c.has(id))) diff.add(id);
    }
  }
  return diff;
}

/**
 * The conflicted state subgraph (state res v2.1): every event on an auth path from one
 * conflicted event to another, endpoints included. An ancestor of a conflicted event belongs
 * to it when a conflicted event is, in turn, one of its own ancestors.
 */
export function conflictedSubgraph(conflictedIds: ReadonlySet<string>, lookup: EventLookup): Set<string> {
  const ancestors = authChain(conflictedIds, lookup);
  // leadsToConflict[id]: some conflicted event is an auth ancestor of `id`. Post-order over the
  // ancestors (which are closed under taking auth events), iteratively.
  const leads = new Map<string, boolean>();
  const inProgress = new Set<string>();
  for (const root of ancestors) {
    if (leads.has(root)) continue;
    const stack: Array<{ id: string; expanded: boolean }> = [{ id: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (!top.expanded) {
        if (leads.has(top.id)) {
          stack.pop();
          continue;
        }
        top.expanded = true;
        inProgress.add(top.id);
        for (const a of lookup(top.id)?.authEventIds ?? []) {
          if (!leads.has(a) && !inProgress.has(a)) stack.push({ id: a, expanded: false });
        }
        continue;
      }
      stack.pop();
      inProgress.delete(top.id);
      let result = false;
      for (const a of lookup(top.id)?.authEventIds ?? []) {
        if (conflictedIds.has(a) || leads.get(a) === true) {
          result = true;
          break;
        }
      }
      leads.set(top.id, result);
    }
  }
  const subgraph = new Set<string>(conflictedIds);
  for (const id of ancestors) if (leads.get(id) === true) subgraph.add(id);
  return subgraph;
}
