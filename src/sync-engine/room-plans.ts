/**
 * A user's rooms for /sync ("plans"): each room with the user's membership and the event that set
 * it, as of the sync's events position, and the stripped state shown for invites and knocks. The
 * plans of a user's previous build are reused while no membership event intervenes, so a woken
 * long poll skips the membership query.
 */
import type { JsonObject } from '../core/json.js';
import { memberStateKey, stateKeyOf } from '../core/pdu.js';
import { STRIPPED_STATE_TYPES, toStrippedState } from '../rooms/client-event.js';
import type { EventStore, MembershipRecord } from '../storage/event-store.js';
import type { SyncToken } from '../sync/sync-token.js';
import type { MaybePromise } from './maybe-promise.js';
import type { RoomHistory } from './room-history.js';

const MAX_PLAN_MEMOS = 20_000;

export interface RoomPlan {
  roomId: string;
  membership: string;
  /** Stream position of the membership event. */
  at: number;
  eventId: string;
}

export class RoomPlans {
  /** Per user: their room plans and the events position they describe (see plansFor). */
  private readonly plans = new Map<string, { at: number; plans: readonly RoomPlan[] }>();
  /** Per plans list (shared while the user's memberships stay put): the joined rooms and the keys to wait on. */
  private readonly joined = new WeakMap<readonly RoomPlan[], { joinedRooms: string[]; wakeKeys: string[] }>();

  constructor(
    private readonly store: EventStore,
    private readonly history: RoomHistory,
  ) {}

  /**
   * The user's rooms as of `upTo`, reusing the plans of the user's previous build when no
   * membership event happened since: they stay right as long as no member event lies between the
   * position they were read at and `upTo`, which is known when that position is within
   * (since, upTo] and storage said that range has no member events. A woken long poll is then
   * spared its membership query.
   */
  plansFor(userId: string, upTo: number, since: SyncToken | undefined, memberEvents: boolean | undefined): MaybePromise<readonly RoomPlan[]> {
    const memo = this.plans.get(userId);
    if (memo && since && memberEvents === false && memo.at >= since.events && memo.at <= upTo) {
      // Still right at `upTo` (no member event up to there): record that, or the next sync, whose
      // `since` is this `upTo`, would find the memo too old and query again.
      memo.at = upTo;
      return memo.plans;
    }
    return this.readPlans(userId, upTo);
  }

  private async readPlans(userId: string, upTo: number): Promise<readonly RoomPlan[]> {
    const plans = await this.roomPlans(userId, upTo);
    this.plans.delete(userId);
    this.plans.set(userId, { at: upTo, plans });
    if (this.plans.size > MAX_PLAN_MEMOS) this.plans.delete(this.plans.keys().next().value as string);
    return plans;
  }

  /** The user's plans from their last build if they describe exactly `upTo`, else undefined. */
  known(userId: string, upTo: number): readonly RoomPlan[] | undefined {
    const memo = this.plans.get(userId);
    return memo?.at === upTo ? memo.plans : undefined;
  }

  joinedOf(userId: string, plans: readonly RoomPlan[]): { joinedRooms: string[]; wakeKeys: string[] } {
    let j = this.joined.get(plans);
    if (!j) {
      const joinedRooms = plans.filter((p) => p.membership === 'join').map((p) => p.roomId);
      j = { joinedRooms, wakeKeys: [userId, ...joinedRooms] };
      this.joined.set(plans, j);
    }
    return j;
  }

  /** The user's rooms with their membership as of stream position `upTo`. */
  private async roomPlans(userId: string, upTo: number): Promise<RoomPlan[]> {
    const out: RoomPlan[] = [];
    for (const m of await this.store.getRoomsForUser(userId)) {
      if (m.forgotten) continue;
      const plan = m.streamOrdering <= upTo ? toPlan(m) : await this.membershipAt(m.roomId, userId, upTo);
      if (plan) out.push(plan);
    }
    return out;
  }

  /** A membership that changed after `upTo` (written while this sync was reading): what it was then. */
  private async membershipAt(roomId: string, userId: string, upTo: number): Promise<RoomPlan | undefined> {
    const state = await this.history.stateAtStream(roomId, upTo);
    const id = state.get(memberStateKey(userId));
    const ev = id === undefined ? undefined : await this.store.getEvent(id);
    const m = ev?.event.content.membership;
    return ev && typeof m === 'string' ? { roomId, membership: m, at: ev.streamOrdering, eventId: ev.event.eventId } : undefined;
  }

  async strippedState(plan: RoomPlan): Promise<JsonObject[]> {
    const before = await this.store.getStateBefore(plan.eventId);
    if (!before) {
      // An invite or knock in a room this server is not in: the stripped state came with it over federation.
      const ev = await this.store.getEvent(plan.eventId);
      if (ev) {
        const unsigned = ev.event.pdu.unsigned ?? {};
        const given = unsigned.invite_room_state ?? unsigned.knock_room_state;
        const stripped = Array.isArray(given) ? given.filter((s): s is JsonObject => typeof s === 'object' && s !== null && !Array.isArray(s)) : [];
        return [...stripped, toStrippedState(ev.event) as unknown as JsonObject];
      }
    }
    const state = before ?? new Map<string, string>();
    const ids = STRIPPED_STATE_TYPES.map((t) => state.get(stateKeyOf(t, ''))).filter((x): x is string => x !== undefined);
    const events = await this.store.getEvents([...ids, plan.eventId]);
    return [...events.values()]
      .sort((a, b) => a.streamOrdering - b.streamOrdering)
      .map((e) => toStrippedState(e.event) as unknown as JsonObject);
  }
}

function toPlan(m: MembershipRecord): RoomPlan {
  return { roomId: m.roomId, membership: m.membership, at: m.streamOrdering, eventId: m.eventId };
}
