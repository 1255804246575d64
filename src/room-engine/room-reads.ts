/**
 * Reads of room events and state on behalf of a user, with history visibility applied and the
 * client event format produced in one place. /sync, /messages and /context build on these.
 */
import type { JsonObject } from '../core/json.js';
import { type StateMap, stateKeyOf } from '../core/pdu.js';
import { forbidden } from '../http/errors.js';
import { type ClientEvent, toClientEvent } from '../rooms/client-event.js';
import { getRoomVersion, type RoomVersion } from '../rooms/versions.js';
import { canSeeEvent, historyVisibilityOf, type VisibilitySnapshot } from '../rooms/visibility.js';
import type { EventStore, StoredEvent } from '../storage/event-store.js';
import { clientTxnId } from './txn-scope.js';

export interface Viewer {
  userId: string;
  /** The requesting device; `unsigned.transaction_id` is shown only to the device that sent the event. */
  deviceId?: string;
}

export class RoomReads {
  /** Room versions never change. */
  private readonly versions = new Map<string, RoomVersion>();
  /**
   * Per state map and user: what visibility needs from it. State maps are shared, immutable cached
   * objects and the events they name never change in the fields read here (redaction keeps
   * `membership` and `history_visibility`), so one event fanned out to a room's members, and the
   * next message sharing the same state, look each member up once.
   */
  private readonly visibility = new WeakMap<StateMap, Map<string, VisibilitySnapshot>>();

  constructor(
    private readonly store: EventStore,
    private readonly now: () => number,
  ) {}

  private async snapshot(state: StateMap | undefined, userId: string): Promise<VisibilitySnapshot> {
    if (!state) return { historyVisibility: 'shared', membership: undefined };
    let perUser = this.visibility.get(state);
    const known = perUser?.get(userId);
    if (known) return known;
    const hvId = state.get(stateKeyOf('m.room.history_visibility', ''));
    const memberId = state.get(stateKeyOf('m.room.member', userId));
    const events = await this.store.getEvents([hvId, memberId].filter((x): x is string => x !== undefined));
    const hv = hvId === undefined ? undefined : events.get(hvId)?.event.content;
    const m = memberId === undefined ? undefined : events.get(memberId)?.event.content.membership;
    const snap: VisibilitySnapshot = { historyVisibility: historyVisibilityOf(hv), membership: typeof m === 'string' ? m : undefined };
    if (!perUser) {
      perUser = new Map();
      this.visibility.set(state, perUser);
    }
    perUser.set(userId, snap);
    return snap;
  }

  /**
   * Whether `userId` may see a stored event (spec: history visibility, server behaviour).
   * `currentlyJoined`: the caller knows the user is joined to the room now (saves a lookup).
   */
  async canSee(userId: string, stored: StoredEvent, currentlyJoined = false): Promise<boolean> {
    if (stored.rejectedReason !== undefined || stored.outlier || stored.softFailed) return false;
    const ev = stored.event;
    const [beforeState, afterState] = await Promise.all([
      this.store.getStateBefore(ev.eventId),
      this.store.getStateAfter(ev.eventId),
    ]);
    const before = await this.snapshot(beforeState, userId);
    const after = await this.snapshot(afterState, userId);
    let joinedLater = false;
    if (currentlyJoined) joinedLater = true;
    else if (before.historyVisibility === 'shared' || after.historyVisibility === 'shared') {
      const current = await this.store.getMembership(ev.roomId, userId);
      if (current?.membership === 'join') joinedLater = true;
      else {
        const max = await this.store.getMaxStreamOrdering();
        const changes = await this.store.getMembershipChanges(userId, stored.streamOrdering, max);
        joinedLater = changes.some((c) => c.roomId === ev.roomId && c.membership === 'join');
      }
    }
    return canSeeEvent({ event: { type: ev.type, stateKey: ev.stateKey }, viewer: userId, before, after, joinedLater });
  }

  /** The client format of an event as `viewer` should get it (redaction, prev_content, transaction ID). */
  async format(stored: StoredEvent, viewer: Viewer, opts: { omitRoomId?: boolean; knownUnredacted?: boolean } = {}): Promise<ClientEvent> {
    const ev = stored.event;
    const version = await this.versionOf(ev.roomId);
    const redaction = opts.knownUnredacted ? undefined : await this.store.getRedactionOf(ev.eventId);
    let transactionId: string | undefined;
    if (viewer.deviceId !== undefined && ev.sender === viewer.userId) {
      const txn = await this.store.getTxnForEvent(ev.eventId);
      if (txn && txn.userId === viewer.userId && txn.deviceId === viewer.deviceId) transactionId = clientTxnId(txn.txnId);
    }
    let replacesState: string | undefined;
    let prevContent: JsonObject | undefined;
    let prevSender: string | undefined;
    if (ev.stateKey !== undefined) {
      const before = await this.store.getStateBefore(ev.eventId);
      replacesState = before?.get(stateKeyOf(ev.type, ev.stateKey));
      if (replacesState !== undefined) {
        const prev = await this.store.getEvent(replacesState);
        if (prev) {
          const prevRedaction = await this.store.getRedactionOf(replacesState);
          prevContent = prevRedaction
            ? toClientEvent(prev.event, { version, now: 0, redactedBecause: prevRedaction.event }).content
            : prev.event.content;
          prevSender = prev.event.sender;
        }
      }
    }
    return toClientEvent(ev, {
      version,
      now: this.now(),
      omitRoomId: opts.omitRoomId,
      transactionId,
      replacesState,
      prevContent,
      prevSender,
      redactedBecause: redaction?.event,
    });
  }

  private async versionOf(roomId: string): Promise<RoomVersion> {
    let version = this.versions.get(roomId);
    if (!version) {
      const room = await this.store.getRoom(roomId);
      version = getRoomVersion(room?.version ?? '') as RoomVersion;
      if (version) this.versions.set(roomId, version);
    }
    return version;
  }

  /**
   * The room state a user may read: the current state while joined (or if the room is world
   * readable), the state when they left otherwise. Forbidden if they were never in the room.
   */
  async readableState(roomId: string, userId: string): Promise<StateMap> {
    const m = await this.store.getMembership(roomId, userId);
    if (m?.membership === 'join') return this.store.getCurrentState(roomId);
    const current = await this.store.getCurrentState(roomId);
    const hv = await this.store.getCurrentStateEvent(roomId, 'm.room.history_visibility', '');
    if (historyVisibilityOf(hv?.event.content) === 'world_readable') return current;
    if (m && (m.membership === 'leave' || m.membership === 'ban')) {
      const at = await this.store.getStateAfter(m.eventId);
      if (at) return at;
    }
    throw forbidden(`You are not a member of ${roomId} and were never one`);
  }

  async formatMany(ids: Iterable<string>, viewer: Viewer): Promise<ClientEvent[]> {
    const events = await this.store.getEvents([...ids]);
    const out: ClientEvent[] = [];
    for (const e of [...events.values()].sort((a, b) => a.streamOrdering - b.streamOrdering)) {
      out.push(await this.format(e, viewer));
    }
    return out;
  }
}
