import { createHash } from 'node:crypto';
import type { RoomVersion } from '../../rooms/versions.js';
import type { EventLookup } from '../auth-chain.js';
import { type AuthStateLookup, checkEventAuth } from '../auth/index.js';
import { type RoomEvent, type StateKey, type StateMap, splitStateKey, stateKeyOf } from '../pdu.js';

function sha1Hex(s: string): string {
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

/** Ascending depth, then descending sha1(event_id): the order auth-relevant conflicts replay in. */
function byDepthAscSha1Desc(a: { ev: RoomEvent; h: string }, b: { ev: RoomEvent; h: string }): number {
  if (a.ev.depth !== b.ev.depth) return a.ev.depth - b.ev.depth;
  return a.h < b.h ? 1 : a.h > b.h ? -1 : 0;
}

/**
 * State resolution for room version 1. Keys with a single value across the states are kept;
 * conflicts are settled type by type (power levels, join rules, members, then the rest), each
 * key against the state resolved by the previous passes. Within a pass every key is resolved
 * against the same snapshot, so the result does not depend on the order keys are visited in.
 */
export function resolveV1(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  lookup: EventLookup,
): Map<StateKey, string> {
  const resolved = new Map<StateKey, string>();
  const conflicts = new Map<StateKey, Set<string>>();
  for (const s of stateSets) {
    for (const [key, id] of s) {
      const known = resolved.get(key);
      const c = conflicts.get(key);
      if (c) c.add(id);
      else if (known === undefined) resolved.set(key, id);
      else if (known !== id) {
        conflicts.set(key, new Set([known, id]));
        resolved.delete(key);
      }
    }
  }
  if (conflicts.size === 0) return resolved;

  const passes: Array<(type: string) => boolean> = [
    (t) => t === 'm.room.power_levels',
    (t) => t === 'm.room.join_rules',
    (t) => t === 'm.room.member',
  ];
  const pending = new Map(conflicts);
  for (const inPass of passes) {
    const snapshot = new Map(resolved);
    for (const [key, ids] of pending) {
      if (!inPass(splitStateKey(key)[0])) continue;
      pending.delete(key);
      const events = knownEvents(ids, lookup).sort(byDepthAscSha1Desc);
      if (events.length === 0) continue;
      // The first event is taken as is; each later one must pass auth against the state so far.
      const local = new Map(snapshot);
      local.set(key, events[0].ev.eventId);
      for (const { ev } of events.slice(1)) {
        if (!checkEventAuth(version, ev, stateLookup(local, lookup)).allowed) break;
        local.set(key, ev.eventId);
      }
      resolved.set(key, local.get(key)!);
    }
  }
  // Other conflicts: the highest depth, then lowest sha1(event_id), that passes auth. If none
  // does, the last candidate is kept (as Synapse does) rather than dropping the key.
  const snapshot = new Map(resolved);
  const auth = stateLookup(snapshot, lookup);
  for (const [key, ids] of pending) {
    const events = knownEvents(ids, lookup).sort(byDepthAscSha1Desc).reverse();
    if (events.length === 0) continue;
    const pick = events.find(({ ev }) => checkEventAuth(version, ev, auth).allowed) ?? events[events.length - 1];
    resolved.set(key, pick.ev.eventId);
  }
  return resolved;
}

function knownEvents(ids: Iterable<string>, lookup: EventLookup): Array<{ ev: RoomEvent; h: string }> {
  const out: Array<{ ev: RoomEvent; h: string }> = [];
  for (const id of ids) {
    const ev = lookup(id);
    if (ev) out.push({ ev, h: sha1Hex(id) });
  }
  return out;
}

function stateLookup(state: ReadonlyMap<StateKey, string>, lookup: EventLookup): AuthStateLookup {
  return (type, stateKey) => {
    const id = state.get(stateKeyOf(type, stateKey));
    return id === undefined ? undefined : lookup(id);
  };
}
