/**
 * Builds one /sync response for a user and device from `since` (undefined: initial sync) up to
 * `current`. Pure reads: the long-poll loop around it lives in the endpoint. See docs/sync.md for
 * the rules (which rooms appear where, what `state` holds, unread counts, lazy loading).
 */
import type { JsonObject } from '../core/json.js';
import type { JsonText } from '../core/json-text.js';
import type { Viewer } from '../room-engine/room-reads.js';
import type { RoomsChanged } from '../storage/event-store.js';
import type { AccountDataChange, Storage } from '../storage/storage.js';
import { accountDataPasses, type Filter, roomPasses } from '../sync/filter.js';
import type { LazyMemberCache } from '../sync/lazy-members.js';
import { formatSyncToken, type SyncToken, tokenCovers } from '../sync/sync-token.js';
import { isPromise, type MaybePromise, Settling } from './maybe-promise.js';
import { emptySections, type RealtimeSections, type RealtimeSync } from './realtime-sections.js';
import { RoomDeltas } from './room-deltas.js';
import type { RoomHistory } from './room-history.js';
import { RoomPlans } from './room-plans.js';
import { NO_EVENTS_LIST, RoomSections } from './room-sections.js';
import { RoomSnapshots } from './room-snapshots.js';
import { NOTHING, SyncResponse } from './sync-response.js';
import { UnreadCounter } from './unread-counter.js';

const _DEFAULT_TIMELINE_LIMIT = 10;
const _MAX_TIMELINE_LIMIT = 1000;
const _MAX_HEROES = 5;
/**
 * An incremental sync asks storage which rooms changed in (since, current] and looks only at
 * those, when the gap is at most this many stream positions; a longer gap (a client back after a
 * long time) walks every joined room instead of scanning that much of the stream.
 */
const MAX_CHANGED_ROOMS_SCAN = 10_000;
/** Changed-room answers kept per stream range (every member woken by one event asks the same range). */
const MAX_CHANGE_MEMOS = 64;

export interface SyncRequest {
  viewer: Required<Viewer>;
  since: SyncToken | undefined;
  current: SyncToken;
  filter: Filter;
  fullState: boolean;
  /** The to-device position the client acknowledged, if behind `since` (see RealtimeRequest). */
  toDeviceAck?: number;
}

export interface SyncResult {
  response: SyncResponse;
  /** Nothing for the client: the long poll may wait for more. */
  empty: boolean;
  /** Keys to wait on: the user and the rooms they are joined to. */
  wakeKeys: string[];
  /** The `next_batch` position: `current`, except where a stream delivered only part of what it has. */
  next: SyncToken;
}

type Changes = Readonly<RoomsChanged> & { memberEvents: boolean };

export class SyncBuilder {
  private readonly plans: RoomPlans;
  private readonly sections: RoomSections;
  /** Per stream range `from:to`: the rooms with events in it. Ranges below the max position never change. */
  private readonly changeMemos = new Map<string, Settling<Changes>>();

  constructor(
    private readonly storage: Storage,readonly history: RoomHistory,
    private readonly lazyCache: LazyMemberCache,
    private readonly realtime?: RealtimeSync,
    /** Off only to check the shared path against the per-member one (test/sync-engine/room-deltas.test.ts). */
    private readonly shareRoomDeltas = true,
  ) {
    this.plans = new RoomPlans(storage.events, history);
    // Per-room data shared by the syncs built at one position (the members woken by one event).
    const snapshots = new RoomSnapshots(storage.events);
    this.sections = new RoomSections(storage, history, lazyCache, snapshots, new RoomDeltas(history), new UnreadCounter(storage));
  }

  /**
   * Right after a delivery the client comes back with the position it was just given. Nothing
   * moved, so there is nothing to read (unless the token acknowledges to-device messages that are
   * still to be deleted): the empty result, with the keys to wait on. Undefined when there may be news.
   */
  caughtUp(req: Omit<SyncRequest, 'filter'>): SyncResult | undefined {
    const { viewer, since, current } = req;
    if (since === undefined || req.fullState || !tokenCovers(since, current)) return undefined;
    const device = { userId: viewer.userId, deviceId: viewer.deviceId, since, current, toDeviceAck: req.toDeviceAck };
    if (this.realtime && !this.realtime.toDeviceSettled(device)) return undefined;
    // The user's rooms as of their last build, still right with no member event in the empty range
    // (since.events, current.events]; without them, a build finds them.
    const plans = this.plans.known(viewer.userId, current.events);
    if (plans === undefined) return undefined;
    return { response: emptyResponse(current), empty: true, wakeKeys: this.plans.joinedOf(viewer.userId, plans).wakeKeys, next: current };
  }

  async build(req: SyncRequest): Promise<SyncResult> {
    const { viewer, since, current, filter } = req;
    if (!since && filter.room.state.lazyLoadMembers) this.lazyCache.reset(viewer.userId, viewer.deviceId);
    // Rooms an incremental sync must look at: those with events, room account data or ephemeral news.
    const incremental = since !== undefined && !req.fullState;
    const knownChanges = incremental && current.events - since.events <= MAX_CHANGED_ROOMS_SCAN ? this.roomsChangedBetween(since.events, current.events) : undefined;
    const changes = isPromise(knownChanges) ? await knownChanges : knownChanges;
    const knownPlans = this.plans.plansFor(viewer.userId, current.events, since, changes?.memberEvents);
    const plans = isPromise(knownPlans) ? await knownPlans : knownPlans;
    // Each stream is read only if it moved: a woken long poll usually has news on one stream only.
    const adMoved = since === undefined || since.accountData < current.accountData;
    const relevantAd = adMoved
      ? (await this.storage.accountData.changesSince(viewer.userId, since?.accountData ?? 0)).filter((c) => c.streamId <= current.accountData)
      : NO_CHANGES;
    const { joinedRooms, wakeKeys } = this.plans.joinedOf(viewer.userId, plans);
    const rtSections = this.realtime
      ? this.realtime.sections({
          userId: viewer.userId,
          deviceId: viewer.deviceId,
          since,
          current,
          filter,
          joinedRooms,
          membershipsChanged: changes?.memberEvents,
          toDeviceAck: req.toDeviceAck,
        })
      : emptySections(current);
    const rt: RealtimeSections = isPromise(rtSections) ? await rtSections : rtSections;

    // Rooms with news beyond their events: room account data and ephemeral events.
    let alsoChanged: ReadonlySet<string> = NO_ROOMS;
    if (rt.ephemeral.size > 0 || relevantAd.length > 0) {
      const rooms = new Set<string>(rt.ephemeral.keys());
      for (const c of relevantAd) if (c.roomId !== null) rooms.add(c.roomId);
      alsoChanged = rooms;
    }
    const changedRooms = changes?.rooms;

    const join = new Map<string, JsonObject | JsonText>();
    const invite: JsonObject = {};
    const knock: JsonObject = {};
    const leave: JsonObject = {};
    for (const plan of plans) {
      if (!roomPasses(filter.room, plan.roomId)) continue;
      const changedSinceLast = since === undefined || plan.at > since.events;
      if (plan.membership === 'join') {
        if (changedRooms && !changedRooms.has(plan.roomId) && !alsoChanged.has(plan.roomId)) continue;
        const eph = rt.ephemeral.get(plan.roomId) ?? NO_EVENTS_LIST;
        // A member who stayed joined through a gap without membership changes in the room gets the
        // room's shared delta; anyone else (a join, a leave and rejoin, a long gap) the full walk.
        const shared = this.shareRoomDeltas && since !== undefined && changes !== undefined && !changes.memberRooms.has(plan.roomId) && plan.at <= since.events;
        const section = shared
          ? await this.sections.shared(req, since, plan.roomId, current.events, relevantAd, eph)
          : await this.sections.walk(req, plan, current.events, relevantAd, true, eph);
        if (section) join.set(plan.roomId, section);
      } else if (plan.membership === 'invite' && changedSinceLast) {
        invite[plan.roomId] = { invite_state: { events: await this.plans.strippedState(plan) } };
      } else if (plan.membership === 'knock' && changedSinceLast) {
        knock[plan.roomId] = { knock_state: { events: await this.plans.strippedState(plan) } };
      } else if (plan.membership === 'leave' || plan.membership === 'ban') {
        const wanted = since === undefined || req.fullState ? filter.room.includeLeave : plan.at > since.events;
        if (!wanted) continue;
        const section = await this.sections.walk(req, plan, plan.at, relevantAd, false, NO_EVENTS_LIST);
        if (section) leave[plan.roomId] = section;
      }
    }

    const globalAd =
      relevantAd.length === 0
        ? NO_EVENTS_LIST
        : relevantAd.filter((c) => c.roomId === null && accountDataPasses(filter.accountData, c.type)).map((c) => ({ type: c.type, content: c.content }));

    const dl = rt.deviceLists;
    const empty =
      join.size === 0 &&
      Object.keys(invite).length === 0 &&
      Object.keys(knock).length === 0 &&
      Object.keys(leave).length === 0 &&
      globalAd.length === 0 &&
      rt.presence.length === 0 &&
      rt.toDevice.length === 0 &&
      dl.changed.length === 0 &&
      dl.left.length === 0;
    // The common case shares `current` (and so its formatted form) with every build at this position.
    const next = rt.toDeviceUpTo === current.toDevice ? current : { ...current, toDevice: rt.toDeviceUpTo };
    const response = new SyncResponse(formatSyncToken(next), {
      join,
      invite,
      knock,
      leave,
      accountData: globalAd,
      presence: rt.presence,
      toDevice: rt.toDevice,
      deviceLists: dl,
    });
    return { response, empty, wakeKeys, next };
  }

  /**
   * Storage's changed rooms in (from, to], shared by the syncs asking the same range. Stream
   * positions are assigned in commit order, so a range ending at or below the position read by
   * `currentToken` is final. The sets are shared: read only.
   */
  private roomsChangedBetween(from: number, to: number): MaybePromise<Changes> {
    const key = `${from}:${to}`;
    let memo = this.changeMemos.get(key);
    if (!memo) {
      const changes = this.storage.events
        .getRoomsChangedBetween(from, to)
        .then(({ rooms, memberRooms }) => ({ rooms, memberRooms, memberEvents: memberRooms.size > 0 }));
      memo = new Settling(changes, () => this.changeMemos.delete(key));
      this.changeMemos.set(key, memo);
      if (this.changeMemos.size > MAX_CHANGE_MEMOS) this.changeMemos.delete(this.changeMemos.keys().next().value as string);
    }
    return memo.get();
  }
}

let lastEmpty: { current: SyncToken; response: SyncResponse } | undefined;

/** The response with nothing in it at `current`, shared by every caught-up sync at that position. */
function emptyResponse(current: SyncToken): SyncResponse {
  if (lastEmpty?.current !== current) lastEmpty = { current, response: new SyncResponse(formatSyncToken(current), NOTHING) };
  return lastEmpty.response;
}

const NO_CHANGES: readonly AccountDataChange[] = Object.freeze([]);
const NO_ROOMS: ReadonlySet<string> = new Set();
