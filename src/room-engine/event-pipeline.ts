/**
 * The one way in for room events, local or remote: check → persist → announce.
 *
 * Checks, in the order the server-server spec gives them: format (`validatePdu`), signatures,
 * content hash (a mismatch redacts the event), the auth events list and the auth rules against
 * the auth events, then the auth rules against the state before the event (resolved from the
 * states after its prev events), and for remote events a soft-fail check against the current
 * state. The result is written in one storage transaction and only then announced, so a client
 * is never told about an event that a crash could lose.
 */
import { checkContentHash, redactedEventBytes } from '../core/event-hashes.js';
import { toRoomEvent, validatePdu } from '../core/event-format.js';
import { requiredSignatures, verifyEventSignatures } from '../core/event-signing.js';
import type { RoomEvent, StateMap } from '../core/pdu.js';
import { domainOf, stateKeyOf } from '../core/pdu.js';
import { redactPdu } from '../core/redaction.js';
import type { VerifyKey } from '../core/signing.js';
import type { RoomVersion } from '../rooms/versions.js';
import type { EventStore, PersistedChain, PersistEventInput, StateInput } from '../storage/event-store.js';
import {
  type AuthStateLookup,
  authEventKeysFor,
  checkAuthEventsList,
  checkEventAuth,
  namedPowerLevel,
  resolveState,
  userPowerLevel,
} from './core-rules.js';
import type { KeyRing } from './key-ring.js';
import { KeyedQueue } from './room-queue.js';

export type EventOrigin = 'local' | 'remote';

export type PipelineOutcome =
  | { status: 'persisted'; event: RoomEvent; streamOrdering: number }
  /** Remote events only: stored, but kept out of the timeline and current state. */
  | { status: 'soft_failed'; event: RoomEvent; streamOrdering: number }
  /** Failed the auth checks; remote rejections are stored so they are not fetched again. */
  | { status: 'rejected'; event: RoomEvent; reason: string }
  | { status: 'duplicate'; event: RoomEvent; streamOrdering: number }
  /** Not a valid event at all (format or signatures): dropped, nothing stored. */
  | { status: 'invalid'; reason: string }
  /** Passed the checks but could not be stored (storage failure); nothing of it was stored. */
  | { status: 'error'; event: RoomEvent; reason: string };

/** An event that went through the checks: its outcome, and what to store (if anything) for it. */
export interface CheckedEvent {
  /** Final unless `write` is set; then its stream ordering is filled in once stored. */
  outcome: PipelineOutcome;
  write?: PersistEventInput;
  /** Set for events that enter the timeline once stored. */
  announce?: Omit<PersistedRoomEvent, 'event' | 'streamOrdering'>;
}

export interface AcceptOptions {
  origin: EventOrigin;
  /** The event is the `m.room.create` of a room this server is creating. */
  newRoom?: { creator: string };
  txn?: { userId: string; deviceId: string; txnId: string };
  /** The state before the event when the caller already computed it (the event creator does). */
  stateBefore?: ResolvedState;
  /**
   * A historical event fetched by backfill: it takes its place in the graph (with its state) but
   * is older than what the room has, so it is not soft-failed against the current state, changes
   * neither current state nor forward extremities, and is not announced as new.
   */
  backfilled?: boolean;
  /**
   * The room's forward extremities as they will stand once the events checked before this one in
   * the same chain are stored (the event creator chains several messages into one commit).
   * Default: as stored.
   */
  extremities?: readonly string[];
}

/** A state with, when it is stored as a group already, that group. */
export interface ResolvedState {
  map: StateMap;
  group: number | undefined;
}

export interface PersistedRoomEvent {
  event: RoomEvent;
  streamOrdering: number;
  version: RoomVersion;
  origin: EventOrigin;
  txn?: { userId: string; deviceId: string; txnId: string };
}

export type PersistedListener = (e: PersistedRoomEvent) => void;

export class EventPipeline {
  private readonly queue = new KeyedQueue();
  private readonly listeners: PersistedListener[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly keyRing: KeyRing,
  ) {}

  /** Registers a hook run after commit for each event that entered a room's timeline (notifier, federation sender). */
  onPersisted(listener: PersistedListener): void {
    this.listeners.push(listener);
  }

  /** Runs `task` while holding the room's write lock. Tasks that persist must use `acceptLocked` inside it. */
  exclusive<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    return this.queue.run(roomId, task);
  }

  /** Checks and stores an event (taking the room's write lock). */
  async accept(raw: unknown, version: RoomVersion, opts: AcceptOptions): Promise<PipelineOutcome> {
    const roomId = roomIdOf(raw);
    return this.queue.run(roomId, () => this.acceptLocked(raw, version, opts));
  }

  async acceptLocked(raw: unknown, version: RoomVersion, opts: AcceptOptions): Promise<PipelineOutcome> {
    const [outcome] = await this.commit([await this.check(raw, version, opts)]);
    return outcome;
  }

  /**
   * Checks an event without storing anything. The result goes to `commit`, alone or as part of a
   * chain of one room's events (the room's write lock held throughout).
   */
  async check(raw: unknown, version: RoomVersion, opts: AcceptOptions): Promise<CheckedEvent> {
    const valid = validatePdu(raw, version);
    if (!valid.ok) return { outcome: { status: 'invalid', reason: valid.reason } };
    let pdu = valid.value;
    // Encoded once for the event ID and the signature check (both cover the redacted event).
    let redactedBytes: Uint8Array | undefined;
    try {
      redactedBytes = redactedEventBytes(pdu, version);
    } catch {
      redactedBytes = undefined;
    }
    let event = toRoomEvent(pdu, version, { redactedBytes });

    const existing = await this.store.getEvent(event.eventId);
    if (existing && !existing.outlier) {
      return { outcome: { status: 'duplicate', event: existing.event, streamOrdering: existing.streamOrdering } };
    }

    const sigs = await this.checkSignatures(event, version, redactedBytes);
    if (!sigs.ok) return { outcome: { status: 'invalid', reason: sigs.reason } };
    if (!checkContentHash(pdu)) {
      if (opts.origin === 'local') return { outcome: { status: 'invalid', reason: 'content hash mismatch on a local event' } };
      pdu = redactPdu(pdu, version);
      event = toRoomEvent(pdu, version);
    }

    const reject = (reason: string): CheckedEvent => {
      const outcome: PipelineOutcome = { status: 'rejected', event, reason };
      if (opts.origin !== 'remote') return { outcome };
      return { outcome, write: { event, rejectedReason: reason, outlier: false } };
    };

    // Auth against the event's own auth events.
    const authMap = await this.store.getEvents(event.authEventIds);
    const missingAuth = event.authEventIds.filter((id) => !authMap.has(id));
    if (missingAuth.length > 0) {
      // A remote event's missing auth events would be fetched from its origin: that arrives with federation.
      return { outcome: { status: 'rejected', event, reason: `auth events not known: ${missingAuth.join(', ')}` } };
    }
    const authEvents = event.authEventIds.map((id) => authMap.get(id)!.event);
    // From v12 the room ID names the create event, which is then never cited but still consulted.
    const implied: RoomEvent[] = [];
    if (version.roomIdFromCreateEvent && event.type !== 'm.room.create') {
      const createId = `$${event.roomId.slice(1)}`;
      const create = authMap.get(createId) ?? (await this.store.getEvent(createId));
      if (!create) return { outcome: { status: 'rejected', event, reason: `create event ${createId} not known` } };
      authMap.set(createId, create);
      implied.push(create.event);
    }
    const listCheck = checkAuthEventsList(version, event, authEvents, (id) => authMap.get(id)?.rejectedReason !== undefined);
    if (!listCheck.allowed) return reject(listCheck.reason);
    const byAuthEvents = checkEventAuth(version, event, lookupIn([...implied, ...authEvents]));
    if (!byAuthEvents.allowed) return reject(byAuthEvents.reason);

    // Auth against the state before the event.
    let before = opts.stateBefore;
    if (!before) {
      const computed = await this.stateBeforeFromPrevs(event, version);
      if (!computed.ok) return { outcome: { status: 'rejected', event, reason: computed.reason } };
      before = computed.state;
    }
    const beforeLookup = await this.stateLookup(before.map, version, event);
    const byState = checkEventAuth(version, event, beforeLookup);
    if (!byState.allowed) return reject(byState.reason);

    let softFailed = false;
    if (opts.origin === 'remote' && !opts.backfilled) {
      // Only the entries the auth rules consult: reading a large room's whole state per event was O(members).
      const current = await this.store.getCurrentStateEntries(event.roomId, this.authKeys(version, event));
      softFailed = !checkEventAuth(version, event, await this.stateLookup(current, version, event)).allowed;
    }

    const currentChange = softFailed || opts.backfilled ? undefined : await this.currentStateChange(event, before.map, version, opts.extremities);
    const effectiveRedaction = await this.redactionTakesEffect(event, version, beforeLookup);

    const stateBefore: StateInput = before.group !== undefined ? { group: before.group } : { map: before.map };
    return {
      write: {
        event,
        softFailed,
        stateBefore,
        newCurrentState: currentChange?.full,
        currentStateDelta: currentChange?.delta,
        newRoom: opts.newRoom ? { version: version.id, creator: opts.newRoom.creator } : undefined,
        txn: opts.txn,
        effectiveRedaction,
        backfilled: opts.backfilled,
      },
      outcome: softFailed
        ? { status: 'soft_failed', event, streamOrdering: 0 }
        : { status: 'persisted', event, streamOrdering: 0 },
      announce: softFailed || opts.backfilled ? undefined : { version, origin: opts.origin, txn: opts.txn },
    };
  }

  /**
   * Stores checked events of one room in order, in one storage call (which the store may commit
   * together with other rooms' writes), then announces those that entered the timeline. Checked
   * events that need no write pass through. If the store fails part-way, the failed event and the
   * rest of the chain come back as `error` (they may build on the failed one).
   */
  async commit(checked: readonly CheckedEvent[]): Promise<PipelineOutcome[]> {
    const writes = checked.filter((c) => c.write !== undefined);
    let chain: PersistedChain;
    try {
      chain = writes.length === 0 ? { persisted: [] } : await this.store.persistEvents(writes.map((c) => c.write!));
    } catch (error) {
      chain = { persisted: [], error };
    }
    const reason = chain.error instanceof Error ? chain.error.message : String(chain.error);
    let i = 0;
    const outcomes: PipelineOutcome[] = [];
    for (const c of checked) {
      if (c.write === undefined) {
        outcomes.push(c.outcome);
        continue;
      }
      const persisted = chain.persisted[i++];
      if (persisted === undefined) {
        outcomes.push({ status: 'error', event: c.write.event, reason: `not stored: ${reason}` });
        continue;
      }
      const outcome = 'streamOrdering' in c.outcome ? { ...c.outcome, streamOrdering: persisted.streamOrdering } : c.outcome;
      outcomes.push(outcome);
      if (c.announce) {
        const announced: PersistedRoomEvent = { event: c.write.event, streamOrdering: persisted.streamOrdering, ...c.announce };
        for (const l of this.listeners) l(announced);
      }
    }
    return outcomes;
  }

  /**
   * Stores a remote event with no known state around it (an outlier: state or auth events fetched
   * over federation to fill a gap). Checked for format, signatures and content hash (a mismatch
   * redacts it) and, when its auth events are known, against them; it never enters the timeline or
   * the current state.
   */
  async acceptOutlier(raw: unknown, version: RoomVersion): Promise<PipelineOutcome> {
    const valid = validatePdu(raw, version);
    if (!valid.ok) return { status: 'invalid', reason: valid.reason };
    let pdu = valid.value;
    let event = toRoomEvent(pdu, version);
    const existing = await this.store.getEvent(event.eventId);
    if (existing) return { status: 'duplicate', event: existing.event, streamOrdering: existing.streamOrdering };
    const sigs = await this.checkSignatures(event, version);
    if (!sigs.ok) return { status: 'invalid', reason: sigs.reason };
    if (!checkContentHash(pdu)) {
      pdu = redactPdu(pdu, version);
      event = toRoomEvent(pdu, version);
    }
    const authMap = await this.store.getEvents(event.authEventIds);
    let rejectedReason: string | undefined;
    if (authMap.size === event.authEventIds.length) {
      const authEvents = event.authEventIds.map((id) => authMap.get(id)!.event);
      if (version.roomIdFromCreateEvent && event.type !== 'm.room.create') {
        const create = await this.store.getEvent(`$${event.roomId.slice(1)}`);
        if (create) authEvents.push(create.event);
      }
      const r = checkEventAuth(version, event, lookupIn(authEvents));
      if (!r.allowed) rejectedReason = r.reason;
    }
    const persisted = await this.store.persistEvent({ event, outlier: true, rejectedReason });
    if (rejectedReason !== undefined) return { status: 'rejected', event, reason: rejectedReason };
    return { status: 'persisted', event, streamOrdering: persisted.streamOrdering };
  }

  /** The state before an event: the state after its single prev event, or the resolution of several. */
  async stateBeforeFromPrevs(
    event: { type: string; prevEventIds: readonly string[] },
    version: RoomVersion,
  ): Promise<{ ok: true; state: ResolvedState } | { ok: false; reason: string }> {
    if (event.prevEventIds.length === 0) {
      if (event.type === 'm.room.create') return { ok: true, state: { map: new Map(), group: undefined } };
      return { ok: false, reason: 'event has no prev_events' };
    }
    return this.resolveStatesAfter(event.prevEventIds, version);
  }

  /** Resolves the states after the given events (e.g. the forward extremities). */
  async resolveStatesAfter(
    eventIds: readonly string[],
    version: RoomVersion,
  ): Promise<{ ok: true; state: ResolvedState } | { ok: false; reason: string }> {
    const groups: number[] = [];
    for (const id of eventIds) {
      const g = await this.store.getEventStateGroups(id);
      // Backfilling unknown prev events is federation's job; until then they cannot be used.
      if (!g) return { ok: false, reason: `state after prev event ${id} is not known` };
      if (!groups.includes(g.after)) groups.push(g.after);
    }
    if (groups.length === 1) return { ok: true, state: { map: await this.store.getStateGroup(groups[0]), group: groups[0] } };
    const maps = await Promise.all(groups.map((g) => this.store.getStateGroup(g)));
    return { ok: true, state: { map: await this.resolve(maps, version), group: undefined } };
  }

  /** Resolves state sets (e.g. states fetched over federation at a gap in the graph). */
  resolveStates(maps: StateMap[], version: RoomVersion): Promise<StateMap> {
    return this.resolve(maps, version);
  }

  /** `pending` is the event being accepted: part of a state set but not stored yet. */
  private async resolve(maps: StateMap[], version: RoomVersion, pending?: RoomEvent): Promise<StateMap> {
    const ids = new Set<string>();
    for (const m of maps) for (const id of m.values()) ids.add(id);
    const events = await this.store.getEvents([...ids]);
    const lookup = new Map<string, RoomEvent>();
    for (const e of await this.store.getAuthChain([...ids, ...(pending?.authEventIds ?? [])])) lookup.set(e.event.eventId, e.event);
    for (const [id, e] of events) lookup.set(id, e.event);
    if (pending) lookup.set(pending.eventId, pending);
    const rejected = (id: string) => events.get(id)?.rejectedReason !== undefined;
    return resolveState(version, maps, (id) => lookup.get(id), { isRejected: rejected });
  }

  /**
   * How the room's current state changes. In the common case the event's prev events are exactly
   * the forward extremities, so the current state was the state before the event and only the
   * event itself changes it; otherwise the states at all remaining extremities are resolved.
   */
  private async currentStateChange(
    event: RoomEvent,
    before: StateMap,
    version: RoomVersion,
    pendingExtremities: readonly string[] | undefined,
  ): Promise<{ full?: StateMap; delta?: ReadonlyMap<string, string> } | undefined> {
    const key = event.stateKey === undefined ? undefined : stateKeyOf(event.type, event.stateKey);
    const extremities = pendingExtremities ?? (await this.store.getForwardExtremities(event.roomId));
    const prevs = new Set(event.prevEventIds);
    if (extremities.length === prevs.size && extremities.every((id) => prevs.has(id))) {
      return key === undefined ? undefined : { delta: new Map([[key, event.eventId]]) };
    }
    const after = new Map(before);
    if (key !== undefined) after.set(key, event.eventId);
    const others = extremities.filter((id) => !prevs.has(id) && id !== event.eventId);
    if (others.length === 0) return { full: after };
    const maps: StateMap[] = [after];
    for (const id of others) {
      const s = await this.store.getStateAfter(id);
      if (s) maps.push(s);
    }
    return { full: await this.resolve(maps, version, event) };
  }

  /** Loads exactly the state entries the auth rules consult for this event. */
  private authKeys(version: RoomVersion, event: RoomEvent): Array<[string, string]> {
    const keys = authEventKeysFor(version, event);
    keys.push(['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.join_rules', '']);
    return keys;
  }

  private async stateLookup(state: StateMap, version: RoomVersion, event: RoomEvent): Promise<AuthStateLookup> {
    const keys = this.authKeys(version, event);
    const ids = keys.map(([t, k]) => state.get(stateKeyOf(t, k))).filter((id): id is string => id !== undefined);
    const events = await this.store.getEvents(ids);
    return (type, stateKey) => {
      const id = state.get(stateKeyOf(type, stateKey));
      return id === undefined ? undefined : events.get(id)?.event;
    };
  }

  private async checkSignatures(event: RoomEvent, version: RoomVersion, redactedBytes?: Uint8Array): Promise<{ ok: true } | { ok: false; reason: string }> {
    const keys = new Map<string, VerifyKey>();
    for (const server of requiredSignatures(event.pdu, version)) {
      const keyIds = Object.keys(event.pdu.signatures?.[server] ?? {});
      for (const k of await this.keyRing.getVerifyKeys(server, keyIds)) keys.set(`${server}\u0000${k.keyId}`, k);
    }
    const r = verifyEventSignatures(event.pdu, version, (server, keyId) => keys.get(`${server}\u0000${keyId}`), redactedBytes);
    return r.ok ? { ok: true } : { ok: false, reason: r.reason };
  }

  /**
   * A redaction hides its target only if the target is in the same room and the redacter may
   * redact it: from v3 on the auth rules no longer check this, so servers check it here.
   */
  private async redactionTakesEffect(event: RoomEvent, version: RoomVersion, state: AuthStateLookup): Promise<boolean> {
    if (event.type !== 'm.room.redaction' || event.redacts === undefined) return false;
    const target = await this.store.getEvent(event.redacts);
    if (!target || target.event.roomId !== event.roomId) return false;
    if (version.redactionAuthByEventIdDomain) return true;
    if (domainOf(target.event.sender) === domainOf(event.sender)) return true;
    return userPowerLevel(version, event.sender, state) >= namedPowerLevel(version, 'redact', state);
  }
}

function lookupIn(events: readonly RoomEvent[]): AuthStateLookup {
  const m = new Map<string, RoomEvent>();
  for (const e of events) if (e.stateKey !== undefined) m.set(stateKeyOf(e.type, e.stateKey), e);
  return (type, stateKey) => m.get(stateKeyOf(type, stateKey));
}

function roomIdOf(raw: unknown): string {
  const r = (raw as { room_id?: unknown } | null)?.room_id;
  return typeof r === 'string' ? r : '';
}

