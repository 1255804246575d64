import type { EventLookup } from '../auth-chain.js';
import type { RoomEvent } from '../pdu.js';

/** Minimal binary heap: `before(a, b)` true when `a` must come out first. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

interface PowerNode {
  readonly ev: RoomEvent;
  readonly power: number;
  readonly children: PowerNode[];
  pending: number;
}

/** The spec's "x < y": greater sender power first, then earlier timestamp, then smaller ID. */
function powerBefore(x: PowerNode, y: PowerNode): boolean {
  if (x.power !== y.power) return x.power > y.power;
  if (x.ev.originServerTs !== y.ev.originServerTs) return x.ev.originServerTs < y.ev.originServerTs;
  return x.ev.eventId < y.ev.eventId;
}

/**
 * The reverse topological power ordering of `ids` (earliest first): Kahn's algorithm over the
 * auth DAG restricted to `ids`, always taking the smallest ready event. An event of the set that
 * is reached only through auth events outside the set still counts as an ancestor, so the
 * ordering respects the whole auth DAG and not just its direct edges.
 * Events the lookup does not know are left out.
 */
export function reverseTopologicalPowerOrder(
  ids: ReadonlySet<string>,
  lookup: EventLookup,
  senderPower: (ev: RoomEvent) => number,
): string[] {
  const nodes = new Map<string, PowerNode>();
  for (const id of ids) {
    const ev = lookup(id);
    if (ev) nodes.set(id, { ev, power: senderPower(ev), children: [], pending: 0 });
  }
  const frontier = nearestMembers(nodes, lookup);
  for (const node of nodes.values()) {
    for (const parentId of frontier(node.ev)) {
      const parent = nodes.get(parentId)!;
      parent.children.push(node);
      node.pending++;
    }
  }
  const ready = new Heap<PowerNode>(powerBefore);
  for (const node of nodes.values()) if (node.pending === 0) ready.push(node);
  const out: string[] = [];
  for (let node = ready.pop(); node; node = ready.pop()) {
    out.push(node.ev.eventId);
    for (const child of node.children) if (--child.pending === 0) ready.push(child);
  }
  // A cycle in the auth graph (only possible with forged events) leaves events behind; they are
  // appended in power order so the result stays deterministic.
  if (out.length < nodes.size) {
    const emitted = new Set(out);
    const rest = [...nodes.values()].filter((n) => !emitted.has(n.ev.eventId));
    rest.sort((a, b) => (powerBefore(a, b) ? -1 : powerBefore(b, a) ? 1 : 0));
    for (const n of rest) out.push(n.ev.eventId);
  }
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * For an event, the members of `members` that are its nearest auth ancestors: reached through
 * auth events outside `members` only. Results for outside events are memoised, so the shared
 * ancestry (power levels chain, create event) is walked once.
 */
function nearestMembers(members: ReadonlyMap<string, unknown>, lookup: EventLookup): (ev: RoomEvent) => Set<string> {
  const memo = new Map<string, ReadonlySet<string>>();
  const outside = (rootId: string): ReadonlySet<string> => {
    const done = memo.get(rootId);
    if (done) return done;
    // Iterative post-order walk over outside events. An event may sit on the stack twice; the
    // upper copy is finished first and the lower one is then skipped.
    const stack: Array<{ id: string; expanded: boolean }> = [{ id: rootId, expanded: false }];
    const inProgress = new Set<string>();
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (!top.expanded) {
        if (memo.has(top.id)) {
          stack.pop();
          continue;
        }
        top.expanded = true;
        inProgress.add(top.id);
        for (const a of lookup(top.id)?.authEventIds ?? []) {
          if (!members.has(a) && !memo.has(a) && !inProgress.has(a)) stack.push({ id: a, expanded: false });
        }
        continue;
      }
      stack.pop();
      inProgress.delete(top.id);
      let acc: Set<string> | undefined;
      for (const a of lookup(top.id)?.authEventIds ?? []) {
        const part: ReadonlySet<string> = members.has(a) ? new Set([a]) : (memo.get(a) ?? NONE);
        if (part.size === 0) continue;
        acc ??= new Set();
        for (const x of part) acc.add(x);
      }
      memo.set(top.id, acc ?? NONE);
    }
    return memo.get(rootId) ?? NONE;
  };
  return (ev) => {
    const result = new Set<string>();
    for (const a of ev.authEventIds) {
      if (members.has(a)) result.add(a);
      else for (const x of outside(a)) result.add(x);
    }
    return result;
  };
}

/** The `m.room.power_levels` event among an event's auth events, if any. */
function powerLevelsAuthEvent(ev: RoomEvent, lookup: EventLookup): RoomEvent | undefined {
  for (const id of ev.authEventIds) {
    const a = lookup(id);
    if (a && a.type === 'm.room.power_levels' && a.stateKey === '') return a;
  }
  return undefined;
}

/**
 * The mainline ordering of `ids` based on the power levels event `powerLevelsId` (earliest
 * first): events whose power levels ancestry meets the mainline further back come first, then
 * earlier timestamp, then smaller ID. Events the lookup does not know are left out.
 */
export function mainlineOrder(ids: Iterable<string>, powerLevelsId: string | undefined, lookup: EventLookup): string[] {
  // Position in the mainline, 0 for the resolved power levels event itself.
  const position = new Map<string, number>();
  for (let pl = powerLevelsId ? lookup(powerLevelsId) : undefined, i = 0; pl; i++) {
    if (position.has(pl.eventId)) break;
    position.set(pl.eventId, i);
    pl = powerLevelsAuthEvent(pl, lookup);
  }
  // Mainline positions of power levels events off the mainline, filled in as walks find them.
  const reached = new Map<string, number>();
  const positionOf = (ev: RoomEvent): number => {
    const path: string[] = [];
    const seen = new Set<string>();
    let result = Number.POSITIVE_INFINITY;
    for (let pl = powerLevelsAuthEvent(ev, lookup); pl; pl = powerLevelsAuthEvent(pl, lookup)) {
      const known = position.get(pl.eventId) ?? reached.get(pl.eventId);
      if (known !== undefined) {
        result = known;
        break;
      }
      if (seen.has(pl.eventId)) break;
      seen.add(pl.eventId);
      path.push(pl.eventId);
    }
    for (const p of path) reached.set(p, result);
    return result;
  };
  const keyed: Array<{ id: string; pos: number; ts: number }> = [];
  for (const id of ids) {
    const ev = lookup(id);
    if (ev) keyed.push({ id, pos: positionOf(ev), ts: ev.originServerTs });
  }
  keyed.sort((a, b) => {
    if (a.pos !== b.pos) return a.pos > b.pos ? -1 : 1;
    if (a.ts !== b.ts) return a.ts - b.ts;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return keyed.map((k) => k.id);
}
