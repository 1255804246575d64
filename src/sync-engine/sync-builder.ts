/**
 * Builds one /sync response for a user and device from `since` (undefined: initial sync) up to
 * `current`. Pure reads: the long-poll loop around it lives in the endpoint. See docs/sync.md for
 * the rules (which rooms appear where, what `state` holds, unread counts, lazy loading).
 */
import type { JsonObject } from '../core/json.js';
import { JsonText } from '../core/json-text.js';
import { memberStateKey, type StateMap, splitStateKey } from '../core/pdu.js';
import type { Viewer } from '../room-engine/room-reads.js';
import type { RoomsChanged } from '../storage/event-store.js';
import type { AccountDataChange, Storage } from '../storage/storage.js';
import { accountDataPasses, effectiveLimit, type Filter, roomPasses } from '../sync/filter.js';
import type { LazyMemberCache } from '../sync/lazy-members.js';
import { selectLazyMembers } from '../sync/lazy-members.js';
import { formatSyncToken, formatTopoToken, type SyncToken, tokenCovers, topoBefore } from '../sync/sync-token.js';
import { emptySections, type RealtimeSections, type RealtimeSync } from './realtime-sections.js';
import { type FormattedState, RoomDeltas } from './room-deltas.js';
import { type RoomPlan, RoomPlans } from './room-plans.js';
import { asJson, type RoomHistory } from './room-history.js';
import { heroesOf, type RoomSnapshot, RoomSnapshots, recentSince, stateAtFromSnapshot, unredactedIn } from './room-snapshots.js';
import { NOTHING, SyncResponse } from './sync-response.js';
import { UnreadCounter } from './unread-counter.js';

const DEFAULT_TIMELINE_LIMIT = 10;
const MAX_TIMELINE_LIMIT = 1000;
const MAX_HEROES = 5;
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
  /** Per-room data shared by the syncs built at one position (the members woken by one event). */
  private readonly snapshots: RoomSnapshots;
  private readonly unreadCounter: UnreadCounter;
  private readonly deltas: RoomDeltas;
  private readonly plans: RoomPlans;
  /** Per stream range `from:to`: the rooms with events in it. Ranges below the max position never change. */
  private readonly changeMemos = new Map<string, Promise<Changes>>();

  constructor(
    private readonly storage: Storage,
    private readonly history: RoomHistory,
    private readonly lazyCache: LazyMemberCache,
    private readonly realtime?: RealtimeSync,
    /** Off only to check the shared path against the per-member one (test/sync-engine/room-deltas.test.ts). */
    private readonly shareRoomDeltas = true,
  ) {
    this.snapshots = new RoomSnapshots(storage.events);
    this.deltas = new RoomDeltas(history);
    this.plans = new RoomPlans(storage.events, history);
    this.unreadCounter = new UnreadCounter(storage);
  }

  /**
   * Right after a delivery the client comes back with the position it was just given. Nothing
   * moved, so there is nothing to read (unless the token acknowledges to-device messages that are
   * still to be deleted): the empty result, with the keys to wait on. Undefined when there may be news.
   */
  caughtUp(req: Omit<SyncRequest, 'filter'>): SyncResult | undefined {
    const { viewer, since, current } = req;
    if (since === undefined || req.fullState || !tokenCovers(since, current)) return undefined;
    if (this.realtime && !this.realtime.toDeviceSettled({ ...viewer, since, current, toDeviceAck: req.toDeviceAck })) return undefined;
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
    const changes =
      incremental && current.events - since.events <= MAX_CHANGED_ROOMS_SCAN
        ? await this.roomsChangedBetween(since.events, current.events)
        : undefined;
    const plans = await this.plans.plansFor(viewer.userId, current.events, since, changes?.memberEvents);
    // Each stream is read only if it moved: a woken long poll usually has news on one stream only.
    const adMoved = since === undefined || since.accountData < current.accountData;
    const relevantAd = adMoved
      ? (await this.storage.accountData.changesSince(viewer.userId, since?.accountData ?? 0)).filter((c) => c.streamId <= current.accountData)
      : NO_CHANGES;
    const { joinedRooms, wakeKeys } = this.plans.joinedOf(viewer.userId, plans);
    const rt: RealtimeSections = this.realtime
      ? await this.realtime.sections({
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
          ? await this.sharedSection(req, since, plan.roomId, current.events, relevantAd, eph)
          : await this.roomSection(req, plan, current.events, relevantAd, true, eph);
        if (section) join.set(plan.roomId, section);
      } else if (plan.membership === 'invite' && changedSinceLast) {
        invite[plan.roomId] = { invite_state: { events: await this.plans.strippedState(plan) } };
      } else if (plan.membership === 'knock' && changedSinceLast) {
        knock[plan.roomId] = { knock_state: { events: await this.plans.strippedState(plan) } };
      } else if (plan.membership === 'leave' || plan.membership === 'ban') {
        const wanted = since === undefined || req.fullState ? filter.room.includeLeave : plan.at > since.events;
        if (!wanted) continue;
        const section = await this.roomSection(req, plan, plan.at, relevantAd, false, []);
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
  private roomsChangedBetween(from: number, to: number): Promise<Changes> {
    const key = `${from}:${to}`;
    let memo = this.changeMemos.get(key);
    if (!memo) {
      memo = this.storage.events.getRoomsChangedBetween(from, to).then(({ rooms, memberRooms }) => ({ rooms, memberRooms, memberEvents: memberRooms.size > 0 }));
      this.changeMemos.set(key, memo);
      memo.catch(() => this.changeMemos.delete(key));
      if (this.changeMemos.size > MAX_CHANGE_MEMOS) this.changeMemos.delete(this.changeMemos.keys().next().value as string);
    }
    return memo;
  }

  /**
   * A joined or left room's section. `upTo` is the end of its timeline: the sync's position for
   * joined rooms, the leave event for left ones. Undefined when an incremental sync has nothing.
   */
  private async roomSection(
    req: SyncRequest,
    plan: RoomPlan,
    upTo: number,
    adChanges: readonly AccountDataChange[],
    joined: boolean,
    ephemeral: readonly JsonObject[],
  ): Promise<JsonObject | undefined> {
    const { viewer, since, filter } = req;
    const roomId = plan.roomId;
    // Full state when the client has no earlier view of this room: initial sync, a join (or a
    // join-and-leave) since the last sync, or full_state.
    let full = since === undefined || req.fullState;
    let sinceState: StateMap | undefined;
    // Joined rooms are described at the sync's position, which every member woken by the same event shares.
    let snap = joined && !full ? await this.snapshots.get(roomId, upTo) : undefined;
    if (!full && since) {
      sinceState = (snap && stateAtFromSnapshot(snap, since.events)) ?? (await this.history.stateAtStream(roomId, since.events));
      full = (await this.history.membershipIn(sinceState, viewer.userId)) !== 'join';
      if (full) sinceState = undefined;
    }
    const from = full && !req.fullState ? 0 : (since?.events ?? 0);
    const tlFilter = filter.room.timeline;
    const limit = effectiveLimit(tlFilter, DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);
    const known = snap && !full ? recentSince(snap, from)?.map((r) => r.stored) : undefined;
    const window = await this.history.latestWindow(viewer.userId, roomId, from, upTo, tlFilter, limit, joined, known);
    const first = window.events[0];

    const startState: StateMap = first
      ? ((await this.storage.events.getStateBefore(first.event.eventId)) ?? new Map())
      : await this.history.stateAtStream(roomId, upTo);
    // A left room shows its state only to a user who was in it: not after a rejected invite or a knock.
    const wasIn =
      joined ||
      (await this.history.membershipIn(startState, viewer.userId)) === 'join' ||
      window.events.some((e) => e.event.type === 'm.room.member' && e.event.stateKey === viewer.userId && e.event.content.membership === 'join');
    if (joined && full) snap ??= await this.snapshots.get(roomId, upTo);
    const stateIds = wasIn
      ? await this.selectState(req, roomId, startState, sinceState, window.events.map((e) => e.event.sender), full, snap)
      : [];

    const roomAd = roomAccountData(adChanges, roomId, filter);

    if (!full && window.events.length === 0 && stateIds.length === 0 && roomAd.length === 0 && ephemeral.length === 0) return undefined;

    const prevBatch = first
      ? topoBefore({ depth: first.event.depth, streamOrdering: first.streamOrdering })
      : await this.history.endPosition(roomId, upTo);
    const section: JsonObject = {
      timeline: {
        events: asJson(await this.history.formatEvents(window.events, viewer, true, snap && unredactedIn(snap))),
        limited: window.more,
        prev_batch: formatTopoToken(prevBatch),
      },
      state: { events: asJson(await this.history.formatState(stateIds, viewer, filter.room.state, true)) },
      account_data: { events: [...roomAd] },
    };
    if (joined) snap ??= await this.snapshots.get(roomId, upTo);
    if (snap) {
      section.ephemeral = { events: [...ephemeral] };
      section.summary = summaryOf(snap, viewer.userId);
      const counts = await this.unreadCounter.counts(snap, viewer.userId, req.current);
      section.unread_notifications = { ...counts };
    }
    return section;
  }

  /** A joined room's section built on the room's shared delta (see room-deltas.ts). */
  private async sharedSection(
    req: SyncRequest,
    since: SyncToken,
    roomId: string,
    upTo: number,
    adChanges: readonly AccountDataChange[],
    ephemeral: readonly JsonObject[],
  ): Promise<JsonText | undefined> {
    const { viewer, filter } = req;
    const snap = await this.snapshots.get(roomId, upTo);
    const limit = effectiveLimit(filter.room.timeline, DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);
    const delta = await this.deltas.get({ snap, from: since.events, filter, limit });
    let state = delta.state;
    if (filter.room.state.lazyLoadMembers) {
      const selected = this.lazyMembers(req, roomId, delta.startState, { senders: delta.senders, heroes: [], gapMembers: [], includeViewer: false });
      state = delta.stateWithoutMembers;
      if (selected.size > 0) {
        const members: FormattedState[] = [];
        for (const user of selected.keys()) {
          const m = await this.deltas.member(delta, user);
          if (m) members.push(m);
        }
        state = [...state, ...members].sort((a, b) => a.streamOrdering - b.streamOrdering);
      }
    }
    const roomAd = roomAccountData(adChanges, roomId, filter);
    if (delta.events.length === 0 && state.length === 0 && roomAd.length === 0 && ephemeral.length === 0) return undefined;
    // Everyone woken with this delta gets the same timeline and state (unless they sent one of the
    // events, or lazy loading adds members they have not had): that text is serialized once.
    const timeline = await this.deltas.timelineFor(delta, viewer);
    const counts = await this.unreadCounter.counts(snap, viewer.userId, req.current);
    return new JsonText(
      `{"timeline":${this.deltas.timelineText(delta, timeline)},"state":${this.deltas.stateText(delta, state)},` +
        `"account_data":${eventsText(roomAd)},"ephemeral":${eventsText(ephemeral)},` +
        `"summary":${summaryText(snap, viewer.userId)},"unread_notifications":${JSON.stringify(counts)}}`,
    );
  }

  /** The state event IDs for a room section: full state or the delta since the last sync, lazily loaded if asked. */
  private async selectState(
    req: SyncRequest,
    roomId: string,
    startState: StateMap,
    sinceState: StateMap | undefined,
    timelineSenders: string[],
    full: boolean,
    snap: RoomSnapshot | undefined,
  ): Promise<string[]> {
    const { viewer, filter } = req;
    const lazy = filter.room.state.lazyLoadMembers;
    const ids: string[] = [];
    const gapMembers: string[] = [];
    // State maps come from a cache shared by all reads: the same object is the same state, no delta.
    if (startState !== sinceState) {
      for (const [key, id] of startState) {
        if (sinceState && sinceState.get(key) === id) continue;
        const [type, stateKey] = splitStateKey(key);
        if (lazy && type === 'm.room.member') {
          if (sinceState) gapMembers.push(stateKey);
          continue;
        }
        ids.push(id);
      }
    }
    if (!lazy) return ids;
    // Heroes' member events go along when the summary names heroes (the room has no name or alias).
    let heroes: string[] = [];
    if (full && snap) heroes = snap.needsHeroes ? heroesOf(snap, viewer.userId) : [];
    else if (full && (await this.needsHeroes(roomId))) heroes = await this.heroes(roomId, viewer.userId);
    for (const id of this.lazyMembers(req, roomId, startState, { senders: timelineSenders, heroes, gapMembers, includeViewer: full }).values()) ids.push(id);
    return ids;
  }

  /**
   * The lazily loaded members a section carries (user ID → member event ID in `startState`), and
   * recorded as sent to the device.
   */
  private lazyMembers(
    req: SyncRequest,
    roomId: string,
    startState: StateMap,
    q: { senders: readonly string[]; heroes: readonly string[]; gapMembers: readonly string[]; includeViewer: boolean },
  ): ReadonlyMap<string, string> {
    const { viewer, filter } = req;
    const alreadySent = req.fullState ? undefined : this.lazyCache.get(viewer.userId, viewer.deviceId, roomId);
    // The usual woken sync: the device already has every sender's current member event.
    if (
      alreadySent &&
      !filter.room.state.includeRedundantMembers &&
      !q.includeViewer &&
      q.heroes.length === 0 &&
      q.gapMembers.length === 0 &&
      q.senders.every((u) => alreadySent.get(u) === startState.get(memberStateKey(u)))
    ) {
      return NONE_SENT;
    }
    // Only the member events of the users that could be selected (not every member of a big room).
    const members = new Map<string, string>();
    for (const user of [viewer.userId, ...q.senders, ...q.heroes, ...q.gapMembers]) {
      const id = startState.get(memberStateKey(user));
      if (id !== undefined) members.set(user, id);
    }
    const selected = selectLazyMembers({
      viewer: viewer.userId,
      timelineSenders: q.senders,
      extraUsers: q.heroes,
      includeViewer: q.includeViewer,
      memberState: members,
      alreadySent,
      includeRedundant: filter.room.state.includeRedundantMembers,
      gapChanges: q.gapMembers,
    });
    const sent = new Map<string, string>();
    for (const user of selected) sent.set(user, members.get(user)!);
    if (sent.size > 0) this.lazyCache.record(viewer.userId, viewer.deviceId, roomId, sent);
    return sent;
  }

  /** Up to five other members, joined or invited first, else those who left, by stream order. */
  private async heroes(roomId: string, userId: string): Promise<string[]> {
    const all = (await this.storage.events.getRoomMembers(roomId))
      .filter((m) => m.userId !== userId)
      .sort((a, b) => a.streamOrdering - b.streamOrdering);
    const present = all.filter((m) => m.membership === 'join' || m.membership === 'invite');
    return (present.length > 0 ? present : all).slice(0, MAX_HEROES).map((m) => m.userId);
  }

  private async needsHeroes(roomId: string): Promise<boolean> {
    const name = await this.storage.events.getCurrentStateEvent(roomId, 'm.room.name', '');
    const alias = await this.storage.events.getCurrentStateEvent(roomId, 'm.room.canonical_alias', '');
    const named = typeof name?.event.content.name === 'string' && name.event.content.name !== '';
    const aliased = typeof alias?.event.content.alias === 'string' && alias.event.content.alias !== '';
    return !named && !aliased;
  }
}

function roomAccountData(changes: readonly AccountDataChange[], roomId: string, filter: Filter): readonly JsonObject[] {
  if (changes.length === 0) return NO_EVENTS_LIST;
  return changes
    .filter((c) => c.roomId === roomId && roomPasses(filter.room.accountData, roomId) && accountDataPasses(filter.room.accountData, c.type))
    .map((c) => ({ type: c.type, content: c.content }));
}

function summaryOf(snap: RoomSnapshot, userId: string): JsonObject {
  const summary: JsonObject = { 'm.joined_member_count': snap.joinedCount, 'm.invited_member_count': snap.invitedCount };
  if (snap.needsHeroes) summary['m.heroes'] = heroesOf(snap, userId);
  return summary;
}

const NO_EVENTS = '{"events":[]}';

let lastEmpty: { current: SyncToken; response: SyncResponse } | undefined;

/** The response with nothing in it at `current`, shared by every caught-up sync at that position. */
function emptyResponse(current: SyncToken): SyncResponse {
  if (lastEmpty?.current !== current) lastEmpty = { current, response: new SyncResponse(formatSyncToken(current), NOTHING) };
  return lastEmpty.response;
}
const NO_CHANGES: readonly AccountDataChange[] = Object.freeze([]);
const NO_ROOMS: ReadonlySet<string> = new Set();
const NO_EVENTS_LIST: readonly JsonObject[] = Object.freeze([]);
const NONE_SENT: ReadonlyMap<string, string> = new Map();

function eventsText(events: readonly JsonObject[]): string {
  return events.length === 0 ? NO_EVENTS : JSON.stringify({ events });
}

/** A summary is the same for every member unless it names heroes and the member is one of the candidates. */
const summaryTexts = new WeakMap<RoomSnapshot, string>();

function summaryText(snap: RoomSnapshot, userId: string): string {
  if (snap.needsHeroes && (snap.presentFirst.includes(userId) || snap.allFirst.includes(userId))) return JSON.stringify(summaryOf(snap, userId));
  let text = summaryTexts.get(snap);
  if (text === undefined) {
    text = JSON.stringify(summaryOf(snap, userId));
    summaryTexts.set(snap, text);
  }
  return text;
}

