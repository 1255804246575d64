/**
 * Presence, aggregated over every device and connection of a user.
 *
 * Both transports report connections: a long-poll /sync is a connection for the length of the
 * request (with `set_presence`), a WebSocket for the life of the socket. Per device we keep the
 * number of open connections, when it last closed, when it was last active, and whether its
 * client asked to appear idle (`set_presence=unavailable`). A user is:
 *  - online (currently_active) when some live device was active within `idleAfterMs` and did not
 *    ask to be idle;
 *  - unavailable when devices are live but none is active (the idle timeout);
 *  - offline when no device is live: a device stays live `offlineGraceMs` after its last
 *    connection closed, which bridges the gap between two long polls and short reconnects.
 * An explicit PUT /presence caps this: `unavailable` keeps an active user unavailable, `offline`
 * hides them. The explicit state and the status message are stored; the rest is in memory (after a
 * restart nobody is connected, so everyone starts offline).
 *
 * Every change of (presence, status_msg, currently_active) gets a stream position; `changesFor`
 * answers "which users' presence changed between a and b" for /sync and WebSocket sync. One
 * shared timer (DeadlineQueue) drives the idle and offline transitions for all users.
 */
import type { JsonObject } from '../core/json.js';
import type { Notifier } from '../notifier.js';
import type { PresenceStatus, PresenceStore } from '../storage/ephemeral-store.js';
import { CoalescedWake } from './coalesced-wake.js';
import { DeadlineQueue } from './deadline-queue.js';
import { Listeners } from './listeners.js';

export type PresenceState = PresenceStatus['state'];

export interface PresenceView {
  presence: PresenceState;
  statusMsg: string | null;
  currentlyActive: boolean;
  /** When the user was last active (0: never, as far as this server knows). */
  lastActiveTs: number;
}

/** A user's presence as sent to clients and other servers (the `m.presence` content). */
export interface PresenceUpdate {
  userId: string;
  view: PresenceView;
}

export interface PresenceConfig {
  idleAfterMs: number;
  offlineGraceMs: number;
}

interface DeviceActivity {
  connections: number;
  /** How many of the open connections asked to appear idle (`set_presence=unavailable`). */
  idleConnections: number;
  /** When the last connection closed (meaningful when `connections` is 0). */
  closedAt: number;
  lastActive: number;
  /**
   * The device appears idle: every open connection asked to, or (during the grace period after
   * the last one closed) the last one to close did.
   */
  idle: boolean;
}

interface UserPresence {
  devices: Map<string, DeviceActivity>;
  explicit: PresenceStatus;
  view: PresenceView;
  /** Stream position of the last change of `view` (0: never changed since start). */
  position: number;
  /** A remote user: the view comes from their server, not from devices. */
  remote: boolean;
  /** The rooms the user was joined to at their last change (who that change is for). */
  rooms?: Promise<string[]>;
  /** The same, once read (checked without an await per user: one viewer may check thousands). */
  roomList?: readonly string[];
}

export interface PresenceDeps {
  store: PresenceStore;
  notifier: Notifier;
  now: () => number;
  config: PresenceConfig;
  /** Rooms the user is joined to (whose members are woken when their presence changes). */
  joinedRooms: (userId: string) => Promise<string[]>;
  /** Whether `viewer` may see `others`' presence (shares a room); returns those who pass. */
  visibleTo: (viewer: string, others: readonly string[]) => Promise<Set<string>>;
  onListenerError?: (err: unknown) => void;
  /**
   * Wake readers for presence changes at most once per this many ms, with the keys of every
   * change in that window (0 or absent: at once). Many members coming online together (a restart,
   * a fan-out bench) would otherwise wake every member of a big room once per arrival.
   */
  wakeCoalesceMs?: number;
}

const DEFAULT_STATUS: PresenceStatus = { state: 'online', statusMsg: null };

export class PresenceService {
  private readonly users = new Map<string, UserPresence>();
  private readonly loading = new Map<string, Promise<UserPresence>>();
  /** (position, user) in position order; entries superseded by a later change are skipped on read. */
  private log: Array<{ position: number; userId: string }> = [];
  private position: number;
  private readonly timers: DeadlineQueue<string>;
  /** Local users' presence changes (for the federation sender: `m.presence` EDUs). */
  readonly localChanges: Listeners<[PresenceUpdate]>;
  /** Presence changes wake readers in batches (see PresenceDeps.wakeCoalesceMs). */
  private readonly wakes: CoalescedWake;

  constructor(private readonly deps: PresenceDeps) {
    this.position = deps.now();
    this.localChanges = new Listeners(deps.onListenerError);
    this.wakes = new CoalescedWake(deps.notifier, 'presence', deps.wakeCoalesceMs ?? 0);
    this.timers = new DeadlineQueue(deps.now, (userId) => {
      const u = this.users.get(userId);
      if (u) this.recompute(userId, u);
    });
  }

  /**
   * A connection from the device opened (a long poll started, a WebSocket connected). `idle`:
   * the client asked to appear idle; pass the same flag to `connectionClosed`.
   */
  async connectionOpened(userId: string, deviceId: string, opts: { idle?: boolean } = {}): Promise<void> {
    const u = await this.load(userId);
    const now = this.deps.now();
    const idle = opts.idle === true ? 1 : 0;
    const d = u.devices.get(deviceId);
    if (d) {
      // A reconnect within the grace period is the same session, not new activity.
      if (d.connections === 0 && !this.live(d, now)) d.lastActive = now;
      if (d.connections === 0) d.idleConnections = 0;
      d.connections++;
      d.idleConnections += idle;
      d.idle = d.idleConnections === d.connections;
    } else {
      u.devices.set(deviceId, { connections: 1, idleConnections: idle, closedAt: 0, lastActive: now, idle: idle === 1 });
    }
    this.recompute(userId, u);
  }

  /** The user did something on the device (sent a message, typed, sent a receipt, a client frame). */
  async active(userId: string, deviceId?: string): Promise<void> {
    const u = await this.load(userId);
    const now = this.deps.now();
    if (deviceId === undefined) {
      for (const d of u.devices.values()) if (this.live(d, now)) d.lastActive = now;
    } else {
      const d = u.devices.get(deviceId);
      if (d && (d.connections > 0 || this.live(d, now))) d.lastActive = now;
      // A device without connections (plain HTTP requests) is live for the grace period after its
      // activity; so is one whose grace period ran out but whose expiry has not been processed yet.
      else if (d) Object.assign(d, { closedAt: now, lastActive: now, idle: false });
      else u.devices.set(deviceId, { connections: 0, idleConnections: 0, closedAt: now, lastActive: now, idle: false });
    }
    this.recompute(userId, u);
  }

  /**
   * A connection from the device closed (`idle` as it was opened); the device stays live for the
   * grace period after its last connection closed.
   */
  async connectionClosed(userId: string, deviceId: string, opts: { idle?: boolean } = {}): Promise<void> {
    const u = await this.load(userId);
    const d = u.devices.get(deviceId);
    if (!d || d.connections === 0) return;
    d.connections--;
    if (opts.idle === true && d.idleConnections > 0) d.idleConnections--;
    if (d.connections === 0) {
      d.closedAt = this.deps.now();
      // The grace period keeps the state of the connection that just closed.
      d.idle = opts.idle === true;
    } else {
      d.idle = d.idleConnections === d.connections;
    }
    this.recompute(userId, u);
  }

  /** PUT /presence: the user's explicit state and status message (stored). Counts as activity on the device. */
  async setPresence(userId: string, deviceId: string | undefined, state: PresenceState, statusMsg: string | null): Promise<void> {
    const u = await this.load(userId);
    u.explicit = { state, statusMsg };
    await this.deps.store.setStatus(userId, u.explicit);
    if (state === 'online') await this.active(userId, deviceId);
    else this.recompute(userId, u);
  }

  /** The user's presence now (GET /presence). */
  async getPresence(userId: string): Promise<PresenceView> {
    const u = await this.load(userId);
    return { ...u.view };
  }

  /** Presence from another server's `m.presence` EDU (the caller checked the origin). */
  applyRemote(userId: string, view: PresenceView): void {
    let u = this.users.get(userId);
    if (!u) {
      u = { devices: new Map(), explicit: DEFAULT_STATUS, view, position: 0, remote: true };
      this.users.set(userId, u);
    }
    u.remote = true;
    this.publish(userId, u, view, false);
  }

  currentPosition(): number {
    return this.position;
  }

  /**
   * `m.presence` events for users whose presence changed in (fromExclusive, toInclusive] and whom
   * `viewer` may see (the viewer themself, and users sharing a room). `viewerRooms`, the viewer's
   * joined rooms when the caller knows them, makes the check a comparison with the rooms each
   * changed user was in at the change (read once per change, not once per viewer: one change
   * wakes every member of a big room).
   */
  async changesFor(viewer: string, fromExclusive: number, toInclusive: number, viewerRooms?: readonly string[]): Promise<JsonObject[]> {
    if (viewerRooms?.length === 0) {
      // In no room: only their own presence, without walking everyone's changes (an initial sync reads them all).
      const own = this.users.get(viewer);
      if (!own || own.position <= fromExclusive || own.position > toInclusive) return [];
      return [{ type: 'm.presence', sender: viewer, content: presenceContent(own.view, this.deps.now()) }];
    }
    const changed: string[] = [];
    for (let i = this.firstAfter(fromExclusive); i < this.log.length; i++) {
      const { position, userId } = this.log[i];
      if (position > toInclusive) break;
      if (this.users.get(userId)?.position === position) changed.push(userId);
    }
    if (changed.length === 0) return [];
    const others = changed.filter((u) => u !== viewer);
    const visible = others.length === 0 ? new Set<string>() : viewerRooms ? await this.sharingAtChange(viewerRooms, others) : await this.deps.visibleTo(viewer, others);
    const now = this.deps.now();
    return changed
      .filter((u) => u === viewer || visible.has(u))
      .map((u) => ({ type: 'm.presence', sender: u, content: presenceContent(this.users.get(u)!.view, now) }));
  }

  /**
   * The current presence of `users` (for a viewer who newly shares a room with them), leaving out
   * users this server has no presence for (never connected since it started, nothing from their server).
   */
  currentOf(users: Iterable<string>): JsonObject[] {
    const now = this.deps.now();
    const out: JsonObject[] = [];
    for (const userId of users) {
      const u = this.users.get(userId);
      if (!u || (u.position === 0 && u.view.presence === 'offline')) continue;
      out.push({ type: 'm.presence', sender: userId, content: presenceContent(u.view, now) });
    }
    return out;
  }

  private async sharingAtChange(viewerRooms: readonly string[], users: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (viewerRooms.length === 0) return out;
    const mine = new Set(viewerRooms);
    for (const userId of users) {
      const u = this.users.get(userId);
      const rooms = u?.roomList ?? (u?.rooms ? await u.rooms.catch(() => []) : undefined);
      if (rooms?.some((r) => mine.has(r))) out.add(userId);
    }
    return out;
  }

  close(): void {
    this.timers.close();
    this.wakes.close();
  }

  private wake(keys: readonly string[]): void {
    this.wakes.changed(keys);
  }

  private firstAfter(position: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid].position <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private load(userId: string): Promise<UserPresence> {
    const existing = this.users.get(userId);
    if (existing) return Promise.resolve(existing);
    let p = this.loading.get(userId);
    if (!p) {
      p = this.deps.store.getStatus(userId).then((status) => {
        const u: UserPresence = {
          devices: new Map(),
          explicit: status ?? DEFAULT_STATUS,
          view: { presence: 'offline', statusMsg: status?.statusMsg ?? null, currentlyActive: false, lastActiveTs: 0 },
          position: 0,
          remote: false,
        };
        this.users.set(userId, u);
        this.loading.delete(userId);
        return u;
      });
      this.loading.set(userId, p);
    }
    return p;
  }

  private live(d: DeviceActivity, now: number): boolean {
    return d.connections > 0 || d.closedAt + this.deps.config.offlineGraceMs > now;
  }

  /** Derives the user's view from their devices, schedules the next transition, publishes a change. */
  private recompute(userId: string, u: UserPresence): void {
    if (u.remote) return;
    const now = this.deps.now();
    const { idleAfterMs, offlineGraceMs } = this.deps.config;
    let anyLive = false;
    let anyActive = false;
    let lastActive = u.view.lastActiveTs;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, d] of u.devices) {
      lastActive = Math.max(lastActive, d.lastActive);
      if (!this.live(d, now)) {
        u.devices.delete(id);
        continue;
      }
      anyLive = true;
      if (d.connections === 0) next = Math.min(next, d.closedAt + offlineGraceMs);
      const activeUntil = d.lastActive + idleAfterMs;
      if (!d.idle && activeUntil > now) {
        anyActive = true;
        next = Math.min(next, activeUntil);
      }
    }
    let presence: PresenceState = anyActive ? 'online' : anyLive ? 'unavailable' : 'offline';
    if (u.explicit.state === 'offline') presence = 'offline';
    else if (u.explicit.state === 'unavailable' && presence === 'online') presence = 'unavailable';
    const view: PresenceView = {
      presence,
      statusMsg: u.explicit.statusMsg,
      currentlyActive: presence === 'online' && anyActive,
      lastActiveTs: lastActive,
    };
    if (next === Number.POSITIVE_INFINITY) this.timers.cancel(userId);
    else this.timers.schedule(userId, next);
    // Only deliver what clients display: a bare last-active bump is not a change.
    const old = u.view;
    const same = old.presence === view.presence && old.statusMsg === view.statusMsg && old.currentlyActive === view.currentlyActive;
    if (same) {
      u.view = view;
      return;
    }
    this.publish(userId, u, view, true);
  }

  private publish(userId: string, u: UserPresence, view: PresenceView, local: boolean): void {
    u.view = view;
    u.position = ++this.position;
    this.log.push({ position: u.position, userId });
    if (this.log.length > 2 * this.users.size + 1024) this.log = this.log.filter((e) => this.users.get(e.userId)?.position === e.position);
    if (local) this.localChanges.emit({ userId, view: { ...view } });
    const rooms = this.deps.joinedRooms(userId);
    u.rooms = rooms;
    u.roomList = undefined;
    rooms.then(
      (r) => {
        if (u.rooms === rooms) u.roomList = r;
        this.wake([userId, ...r]);
      },
      (err) => this.deps.onListenerError?.(err),
    );
  }
}

/** The `m.presence` content (and GET /presence body) for a view at time `now`. */
export function presenceContent(view: PresenceView, now: number): JsonObject {
  const content: JsonObject = { presence: view.presence, currently_active: view.currentlyActive };
  if (view.lastActiveTs > 0) content.last_active_ago = Math.max(0, now - view.lastActiveTs);
  if (view.statusMsg !== null) content.status_msg = view.statusMsg;
  return content;
}
