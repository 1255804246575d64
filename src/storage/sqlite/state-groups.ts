/**
 * State groups: the state at every event, stored as full snapshots or as deltas on an earlier
 * group (see the `002-rooms` migration), with the caches that make loading them cheap.
 */
import type { StateMap } from '../../core/pdu.js';
import { splitStateKey, stateKeyOf } from '../../core/pdu.js';
import type { StateInput } from '../event-store.js';
import { withStateChanges } from '../layered-state-map.js';
import { Lru } from './lru.js';
import type { Prepare } from './statement-cache.js';

/** A delta chain longer than this is cut by writing a full snapshot. */
export const MAX_STATE_DELTA_DEPTH = 100;
const STATE_CACHE_SIZE = 256;
const EVENT_CACHE_SIZE = 4096;

export class SqliteStateGroups {
  private readonly groups = new Lru<number, StateMap>(STATE_CACHE_SIZE);
  /** An event's state groups never change once set (an outlier has none until it gets its place in the graph). */
  private readonly eventGroups = new Lru<string, { before: number; after: number }>(EVENT_CACHE_SIZE);
  private readonly depths = new Lru<number, number>(STATE_CACHE_SIZE * 4);

  constructor(private readonly prep: Prepare) {}

  clear(): void {
    this.groups.clear();
    this.eventGroups.clear();
    this.depths.clear();
  }

  storeStateGroup(roomId: string, input: StateInput): number {
    if ('group' in input) return input.group;
    if (input.baseGroup !== undefined) {
      const base = this.loadGroup(input.baseGroup);
      const changed: Array<[string, string | null]> = [];
      for (const [k, v] of input.map) if (base.get(k) !== v) changed.push([k, v]);
      for (const k of base.keys()) if (!input.map.has(k)) changed.push([k, null]);
      return this.storeDelta(roomId, input.baseGroup, changed);
    }
    return this.storeSnapshot(roomId, new Map(input.map));
  }

  /**
   * The group `baseGroup` + `changes`, stored as a delta while the chain of deltas above the
   * last full snapshot is short enough. "Short enough" grows with the state: loading a group
   * reads its snapshot (one row per entry) plus one small delta per hop, so a chain of up to
   * a tenth of the state's size at most doubles a cold load, while snapshots — which cost a row
   * per entry — are written only every `size / 10` changes instead of every
   * MAX_STATE_DELTA_DEPTH, which for a large room was most of the cost of every state event.
   */
  storeDelta(roomId: string, baseGroup: number, changes: ReadonlyArray<readonly [string, string | null]>): number {
    const base = this.loadGroup(baseGroup);
    const real = changes.filter(([k, v]) => base.get(k) !== (v ?? undefined));
    if (real.length === 0) return baseGroup;
    const next = withStateChanges(base, real);
    const depth = this.depthOf(baseGroup) + 1;
    if (depth >= Math.max(MAX_STATE_DELTA_DEPTH, next.size / 10)) return this.storeSnapshot(roomId, next);
    const id = Number(this.prep('INSERT INTO state_groups (room_id, prev_group, delta_depth) VALUES (?, ?, ?)').run(roomId, baseGroup, depth).lastInsertRowid);
    const insertEntry = this.prep('INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES (?, ?, ?, ?)');
    for (const [k, v] of real) {
      const [type, stateKey] = splitStateKey(k);
      insertEntry.run(id, type, stateKey, v);
    }
    this.groups.set(id, next);
    this.depths.set(id, depth);
    return id;
  }

  /** `map` must not be modified afterwards: it is cached as the group's state. */
  private storeSnapshot(roomId: string, map: StateMap): number {
    const id = Number(this.prep('INSERT INTO state_groups (room_id, prev_group, delta_depth) VALUES (?, NULL, 0)').run(roomId).lastInsertRowid);
    const insertEntry = this.prep('INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES (?, ?, ?, ?)');
    for (const [k, v] of map) {
      const [type, stateKey] = splitStateKey(k);
      insertEntry.run(id, type, stateKey, v);
    }
    this.groups.set(id, map);
    this.depths.set(id, 0);
    return id;
  }

  private depthOf(group: number): number {
    let d = this.depths.get(group);
    if (d === undefined) {
      d = (this.prep('SELECT delta_depth FROM state_groups WHERE id = ?').get(group) as { delta_depth: number }).delta_depth;
      this.depths.set(group, d);
    }
    return d;
  }

  loadGroup(group: number): StateMap {
    const cached = this.groups.get(group);
    if (cached) return cached;
    const chain: number[] = [];
    let map: StateMap = new Map();
    const prevOf = this.prep('SELECT prev_group FROM state_groups WHERE id = ?');
    for (let g: number | null = group; g !== null; ) {
      const hit = this.groups.get(g);
      if (hit) {
        map = hit;
        break;
      }
      chain.push(g);
      const row = prevOf.get(g) as { prev_group: number | null } | undefined;
      if (!row) throw new Error(`unknown state group ${g}`);
      g = row.prev_group;
    }
    // All the chain's deltas, oldest first, applied in one go: later entries override earlier ones.
    const entries = this.prep('SELECT type, state_key, event_id FROM state_group_entries WHERE state_group = ?');
    const changes: Array<readonly [string, string | null]> = [];
    for (const g of chain.reverse()) {
      for (const r of entries.all(g) as Array<{ type: string; state_key: string; event_id: string | null }>) {
        changes.push([stateKeyOf(r.type, r.state_key), r.event_id]);
      }
    }
    map = withStateChanges(map, changes);
    this.groups.set(group, map);
    return map;
  }

  async getEventStateGroups(eventId: string): Promise<{ before: number; after: number } | undefined> {
    const cached = this.eventGroups.get(eventId);
    if (cached) return cached;
    const r = this.prep('SELECT state_group_before AS b, state_group_after AS a FROM events WHERE event_id = ?').get(eventId) as
      | { b: number | null; a: number | null }
      | undefined;
    if (!r || r.b === null || r.a === null) return undefined;
    const groups = { before: r.b, after: r.a };
    this.eventGroups.set(eventId, groups);
    return groups;
  }

  async getStateGroup(group: number): Promise<StateMap> {
    return this.loadGroup(group);
  }

  async getStateBefore(eventId: string): Promise<StateMap | undefined> {
    const g = await this.getEventStateGroups(eventId);
    return g && this.loadGroup(g.before);
  }

  async getStateAfter(eventId: string): Promise<StateMap | undefined> {
    const g = await this.getEventStateGroups(eventId);
    return g && this.loadGroup(g.after);
  }
}
