import type { RoomVersion } from '../../rooms/versions.js';
import type { EventLookup } from '../auth-chain.js';
import type { StateMap } from '../pdu.js';
import type { ResolveOptions } from './common.js';
import { resolveV1 } from './v1.js';
import { resolveV2 } from './v2.js';

export type { EventLookup } from '../auth-chain.js';
export type { ResolveOptions } from './common.js';

/**
 * Resolves several room states (typically the states after each `prev_event` of a new event)
 * into one, with the algorithm the room version prescribes. Events the lookup does not know are
 * treated as absent from the conflicted set rather than failing the resolution.
 */
export function resolveState(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  lookup: EventLookup,
  opts?: ResolveOptions,
): StateMap {
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return stateSets[0];
  if (allSame(stateSets)) return stateSets[0];
  switch (version.stateRes) {
    case 'v1':
      return resolveV1(version, stateSets, lookup);
    case 'v2':
      return resolveV2(version, stateSets, lookup, opts, false);
    case 'v2.1':
      return resolveV2(version, stateSets, lookup, opts, true);
  }
}

function allSame(stateSets: readonly StateMap[]): boolean {
  const first = stateSets[0];
  for (let i = 1; i < stateSets.length; i++) {
    const s = stateSets[i];
    if (s === first) continue;
    if (s.size !== first.size) return false;
    for (const [key, id] of first) if (s.get(key) !== id) return false;
  }
  return true;
}
