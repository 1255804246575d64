/**
 * Lazy-loading room members (client-server spec, "Lazy-loading room members"): which member
 * events a response's `state` carries when the filter sets `lazy_load_members`.
 *
 * Included: the members who sent an event in the returned timeline, the extra users the caller
 * names (summary heroes), and the viewer when the caller asks (initial sync, a new join,
 * full_state). A member the client already has (the same member event was sent to this device
 * before) is redundant and left out unless `include_redundant_members`. Members whose
 * membership changed in the gap of a limited incremental sync are always included, redundant or
 * not, as the /sync description requires.
 */

export interface LazyMemberQuery {
  viewer: string;
  timelineSenders: Iterable<string>;
  /** Further users whose member events the response needs (e.g. heroes). */
  extraUsers?: Iterable<string>;
  includeViewer: boolean;
  /** Member events in the state the response describes: user ID → event ID. */
  memberState: ReadonlyMap<string, string>;
  /** Member events this device already received for the room: user ID → event ID. */
  alreadySent: ReadonlyMap<string, string> | undefined;
  includeRedundant: boolean;
  /** Users whose member event changed between `since` and the start of the timeline. */
  gapChanges?: Iterable<string>;
}

/** The user IDs whose member event (from `memberState`) the response includes. */
export function selectLazyMembers(q: LazyMemberQuery): Set<string> {
  const wanted = new Set<string>(q.timelineSenders);
  for (const u of q.extraUsers ?? []) wanted.add(u);
  if (q.includeViewer) wanted.add(q.viewer);
  const out = new Set<string>();
  for (const user of wanted) {
    const eventId = q.memberState.get(user);
    if (eventId === undefined) continue;
    if (!q.includeRedundant && q.alreadySent?.get(user) === eventId) continue;
    out.add(user);
  }
  for (const user of q.gapChanges ?? []) if (q.memberState.has(user)) out.add(user);
  return out;
}

/**
 * Remembers, per device and room, which member events were sent, so incremental syncs can
 * skip redundant ones. In memory and bounded: forgetting only costs redundant resends, which
 * the spec allows. (A multi-process deployment keeps one per process; the same holds.)
 */
export class LazyMemberCache {
  /** Per device (`user|device`), oldest first: when it was last moved to the end, and its rooms. */
  private readonly devices = new Map<string, { touched: number; rooms: Map<string, Map<string, string>> }>();
  private clock = 0;

  constructor(private readonly maxDevices = 10_000) {}

  private key(userId: string, deviceId: string): string {
    return `${userId}|${deviceId}`;
  }

  get(userId: string, deviceId: string, roomId: string): ReadonlyMap<string, string> | undefined {
    const k = this.key(userId, deviceId);
    const entry = this.devices.get(k);
    if (!entry) return undefined;
    // Maps iterate in insertion order and the oldest device is evicted first, so a device in use
    // moves to the end; only once it is in the older half, as moving it on every sync (every
    // member woken by every message) costs more than the rest of this lookup.
    if (this.clock - entry.touched >= this.maxDevices / 2) {
      this.devices.delete(k);
      this.devices.set(k, entry);
      entry.touched = ++this.clock;
    }
    return entry.rooms.get(roomId);
  }

  /** Records member events sent to the device. */
  record(userId: string, deviceId: string, roomId: string, members: Iterable<[userId: string, eventId: string]>): void {
    const k = this.key(userId, deviceId);
    let entry = this.devices.get(k);
    if (!entry) {
      entry = { touched: ++this.clock, rooms: new Map() };
      this.devices.set(k, entry);
      if (this.devices.size > this.maxDevices) this.devices.delete(this.devices.keys().next().value as string);
    }
    let room = entry.rooms.get(roomId);
    if (!room) {
      room = new Map();
      entry.rooms.set(roomId, room);
    }
    for (const [u, e] of members) room.set(u, e);
  }

  /** A sync from scratch (no `since`): the device starts over. */
  reset(userId: string, deviceId: string, roomId?: string): void {
    const k = this.key(userId, deviceId);
    if (roomId === undefined) this.devices.delete(k);
    else this.devices.get(k)?.rooms.delete(roomId);
  }
}
