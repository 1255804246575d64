/**
 * A joined or left room's section of a sync response, two ways: from the room's shared delta, for
 * a member who stayed joined through the gap (room-deltas.ts), as JSON text joined from pieces the
 * members woken together share; or walked for this member alone (a join, a leave, a long gap). See
 * docs/sync.md for the rules; test/sync-engine/room-deltas.test.ts checks both ways agree.
 */
import type { JsonObject } from '../core/json.js';
import { JsonText } from '../core/json-text.js';
import { memberStateKey, type StateMap, splitStateKey } from '../core/pdu.js';
import type { AccountDataChange, Storage } from '../storage/storage.js';
import { accountDataPasses, effectiveLimit, type Filter, roomPasses } from '../sync/filter.js';
import type { LazyMemberCache } from '../sync/lazy-members.js';
import { selectLazyMembers } from '../sync/lazy-members.js';
import { formatTopoToken, type SyncToken, topoBefore } from '../sync/sync-token.js';
import { isPromise } from './maybe-promise.js';
import type { FormattedState, RoomDeltas } from './room-deltas.js';
import { asJson, type RoomHistory } from './room-history.js';
import type { RoomPlan } from './room-plans.js';
import { heroesOf, type RoomSnapshot, type RoomSnapshots, recentSince, stateAtFromSnapshot, unredactedIn } from './room-snapshots.js';
import type { SyncRequest } from './sync-builder.js';
import type { UnreadCounter } from './unread-counter.js';

const DEFAULT_TIMELINE_LIMIT = 10;
const MAX_TIMELINE_LIMIT = 1000;
const MAX_HEROES = 5;

/** Events lists with nothing in them (shared: read only). */
export const NO_EVENTS_LIST: readonly JsonObject[] = Object.freeze([]);

export class RoomSections {
  constructor(
    private readonly storage: Storage,
    private readonly history: RoomHistory,
    private readonly lazyCache: LazyMemberCache,
    private readonly snapshots: RoomSnapshots,
    private readonly deltas: RoomDeltas,
    private readonly unreadCounter: UnreadCounter,
  ) {}

  /**
   * A joined or left room's section. `upTo` is the end of its timeline: the sync's position for
   * joined rooms, the leave event for left ones. Undefined when an incremental sync has nothing.
   */
  async walk(
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

  /** A joined room's section built on the room's shared delta (see room-deltas.ts), as JSON text. */
  async shared(
    req: SyncRequest,
    since: SyncToken,
    roomId: string,
    upTo: number,
    adChanges: readonly AccountDataChange[],
    ephemeral: readonly JsonObject[],
  ): Promise<JsonText | undefined> {
    const { viewer, filter } = req;
    const knownSnap = this.snapshots.get(roomId, upTo);
    const snap = isPromise(knownSnap) ? await knownSnap : knownSnap;
    const limit = effectiveLimit(filter.room.timeline, DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);
    const knownDelta = this.deltas.get({ snap, from: since.events, filter, limit });
    const delta = isPromise(knownDelta) ? await knownDelta : knownDelta;
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
    const ownTimeline = this.deltas.timelineFor(delta, viewer);
    const timeline = isPromise(ownTimeline) ? await ownTimeline : ownTimeline;
    const knownCounts = this.unreadCounter.counts(snap, viewer.userId, req.current);
    const counts = isPromise(knownCounts) ? await knownCounts : knownCounts;
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
