import type { RoomVersion } from '../../rooms/versions.js';
import type { EventLookup } from '../auth-chain.js';
import { authEventKeysFor, checkEventAuth } from '../auth/index.js';
import { type RoomEvent, type StateKey, stateKeyOf } from '../pdu.js';
import { ownAuthEvents } from './common.js';

/**
 * The iterative auth checks: applies each event of `order` to `state` (mutated in place) when the
 * auth rules allow it. The rules see the resolved state for the keys the auth events selection
 * asks for; a key missing there (or holding a rejected event) falls back to the event's own,
 * non-rejected, auth event.
 */
export function iterativeAuthChecks(
  version: RoomVersion,
  order: readonly string[],
  state: Map<StateKey, string>,
  lookup: EventLookup,
  isRejected: (eventId: string) => boolean,
): void {
  for (const id of order) {
    const ev = lookup(id);
    if (!ev || ev.stateKey === undefined) continue;
    const own = ownAuthEvents(version, ev, lookup, isRejected);
    const fromState = new Map<StateKey, RoomEvent>();
    for (const [type, stateKey] of authEventKeysFor(version, ev)) {
      const key = stateKeyOf(type, stateKey);
      const sid = state.get(key);
      if (sid === undefined || isRejected(sid)) continue;
      const sev = lookup(sid);
      if (sev) fromState.set(key, sev);
    }
    const verdict = checkEventAuth(version, ev, (type, stateKey) => {
      const key = stateKeyOf(type, stateKey);
      return fromState.get(key) ?? own.get(key);
    });
    if (verdict.allowed) state.set(stateKeyOf(ev.type, ev.stateKey), id);
  }
}
