import type { RoomEvent } from './pdu.js';

/** Fetches an event by ID; `undefined` when it is not known locally. */
export type EventLookup = (eventId: string) => RoomEvent | undefined;

const NOTHING: ReadonlySet<string> = new Set();

/**
 * All auth ancestors of `eventIds` (their auth events, those events' auth events, and so on),
 * not including the inputs themselves unless one is an ancestor of another. Iterative, because
 * auth chains of old rooms are far deeper than the call stack. Events the lookup does not know
 * are still reported (they are part of the chain) but cannot be walked further.
 */
export function authChain(eventIds: Iterable<string>, lookup: EventLookup): Set<string> {
  return authChainUntil(eventIds, lookup, NOTHING, false);
}

/**
 * Like {@link authChain} but never enters `stop` (nor reports it): used where the part of the
 * graph behind `stop` is already known to be shared and need not be walked again. The inputs
 * themselves are included when `includeInputs` is set.
 */
export function authChainUntil(
  eventIds: Iterable<string>,
  lookup: EventLookup,
  stop: ReadonlySet<string>,
  includeInputs: boolean,
): Set<string> {
  const chain = new Set<string>();
  const stack: string[] = [];
  for (const id of eventIds) {
    if (includeInputs) {
      if (!stop.has(id)) stack.push(id);
      continue;
    }
    const ev = lookup(id);
    if (ev) for (const a of ev.authEventIds) if (!stop.has(a)) stack.push(a);
  }
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (chain.has(id)) continue;
    chain.add(id);
    const ev = lookup(id);
    if (!ev) continue;
    for (const a of ev.authEventIds) if (!chain.has(a) && !stop.has(a)) stack.push(a);
  }
  return chain;
}
