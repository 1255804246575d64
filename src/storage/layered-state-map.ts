/**
 * An immutable state map made of a flat base and a small overlay of changes.
 *
 * Each state event's state group is its parent's plus one entry. Copying the parent's map for
 * every event made sending into a room cost O(members) per event — O(n²) to fill a large room.
 * Deriving a layered map costs O(overlay) instead; once the overlay grows past about the square
 * root of the base it is folded into a new flat base, so deriving stays O(√n) amortised while
 * lookups stay two Map reads.
 */
import type { StateKey, StateMap } from '../core/pdu.js';

/** Overlays never fold below this size: small states copy cheaply anyway. */
const MIN_OVERLAY = 64;

export class LayeredStateMap implements ReadonlyMap<StateKey, string> {
  private constructor(
    private readonly base: ReadonlyMap<StateKey, string>,
    /** `null` marks a key removed from the base. */
    private readonly overlay: ReadonlyMap<StateKey, string | null>,
    readonly size: number,
  ) {}

  get(key: StateKey): string | undefined {
    const v = this.overlay.get(key);
    if (v !== undefined) return v ?? undefined;
    return this.base.get(key);
  }

  has(key: StateKey): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[StateKey, string]> {
    for (const [k, v] of this.base) {
      const o = this.overlay.get(k);
      if (o === undefined) yield [k, v];
      else if (o !== null) yield [k, o];
    }
    for (const [k, v] of this.overlay) if (v !== null && !this.base.has(k)) yield [k, v];
  }

  *keys(): MapIterator<StateKey> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[StateKey, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: StateKey, map: ReadonlyMap<StateKey, string>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  /** The flat base and overlay, for `withStateChanges`. */
  static parts(m: LayeredStateMap): { base: ReadonlyMap<StateKey, string>; overlay: ReadonlyMap<StateKey, string | null> } {
    return { base: m.base, overlay: m.overlay };
  }

  static create(base: ReadonlyMap<StateKey, string>, overlay: ReadonlyMap<StateKey, string | null>, size: number): LayeredStateMap {
    return new LayeredStateMap(base, overlay, size);
  }
}

/**
 * `state` with `changes` applied (`null` removes a key), without modifying `state`. The result
 * shares `state`'s storage, so `state` must not be mutated afterwards: maps held by the state
 * cache never are.
 */
export function withStateChanges(state: StateMap, changes: Iterable<readonly [StateKey, string | null]>): StateMap {
  let base: ReadonlyMap<StateKey, string>;
  let overlay: Map<StateKey, string | null>;
  if (state instanceof LayeredStateMap) {
    const p = LayeredStateMap.parts(state);
    base = p.base;
    overlay = new Map(p.overlay);
  } else {
    base = state;
    overlay = new Map();
  }
  let size = state.size;
  for (const [k, v] of changes) {
    // Present before this change, counting earlier changes of the same batch.
    const now = overlay.has(k) ? overlay.get(k) !== null : base.has(k);
    if (v === null) {
      if (now) size--;
      if (base.has(k)) overlay.set(k, null);
      else overlay.delete(k);
    } else {
      if (!now) size++;
      overlay.set(k, v);
    }
  }
  if (overlay.size < Math.max(MIN_OVERLAY, 2 * Math.sqrt(base.size))) return LayeredStateMap.create(base, overlay, size);
  const flat = new Map(base);
  for (const [k, v] of overlay) {
    if (v === null) flat.delete(k);
    else flat.set(k, v);
  }
  return flat;
}
