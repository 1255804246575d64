/**
 * The pipeline's checks of one event, in the order the server-server spec gives them: format
 * (`validatePdu`), signatures, content hash (a mismatch redacts the event), the auth events list
 * and the auth rules against the auth events, then the auth rules against the state before the
 * event (resolved from the states after its prev events), and for remote events a soft-fail check
 * against the current state. Nothing is stored here: the result says what the commit should write.
 * Inside a batch the checks read through the events checked before (a `PendingBatch`).
 */
import { checkContentHash, redactedEventBytes } from '../core/event-hashes.js';
import { toRoomEvent, validatePdu } from '../core/event-format.js';
import { requiredSignatures, verifyEventSignatures } from '../core/event-signing.js';
import type { RoomEvent, StateMap } from '../core/pdu.js';
import { domainOf, stateKeyOf } from '../core/pdu.js';
import { redactPdu } from '../core/redaction.js';
import type { VerifyKey } from '../core/signing.js';
import type { RoomVersion } from '../rooms/versions.js';
import type { EventStore, StateInput } from '../storage/event-store.js';
import { type AuthStateLookup, authEventKeysFor, checkAuthEventsList, checkEventAuth, namedPowerLevel, userPowerLevel } from './core-rules.js';
import type { KeyRing } from './key-ring.js';
import type { PendingBatch } from './pending-batch.js';
import { type AcceptOptions, type CheckedEvent, NEEDS_STORE, type NeedsStore, type PipelineOutcome } from './pipeline-types.js';
import type { CurrentStateChange, StateBefore } from './state-before.js';

type EventReads = Pick<EventStore, 'getEvent' | 'getEvents' | 'getForwardExtremities' | 'getCurrentStateEntries'>;

export class EventChecks {
  constructor(
    private readonly store: EventReads,
    private readonly keyRing: KeyRing,
    private readonly states: StateBefore,
  ) {}

  /**
   * Checks an event, reading through `batch` (events checked earlier in the same batch) when given.
   * Answers NEEDS_STORE only when `batch` holds events and a state resolution would involve them.
   */
  async check(raw: unknown, version: RoomVersion, opts: AcceptOptions, batch: PendingBatch | undefined): Promise<CheckedEvent | NeedsStore> {
    const reads = batch ?? this.store;
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

    const existing = await reads.getEvent(event.eventId);
    if (existing && !existing.outlier) {
      return { outcome: { status: 'duplicate', event: existing.event, streamOrdering: existing.streamOrdering } };
    }

    const sigs = await this.signatures(event, version, redactedBytes);
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
    const authMap = await reads.getEvents(event.authEventIds);
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
      const create = authMap.get(createId) ?? (await reads.getEvent(createId));
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
      const computed =
        batch && event.prevEventIds.some((id) => batch.isPending(id)) ? this.states.afterPending(event, batch) : await this.states.fromPrevs(event, version);
      if (computed === NEEDS_STORE) return NEEDS_STORE;
      if (!computed.ok) return { outcome: { status: 'rejected', event, reason: computed.reason } };
      before = computed.state;
    }
    const beforeLookup = await stateLookup(before.map, version, event, reads);
    const byState = checkEventAuth(version, event, beforeLookup);
    if (!byState.allowed) return reject(byState.reason);

    let softFailed = false;
    if (opts.origin === 'remote' && !opts.backfilled) {
      // Only the entries the auth rules consult: reading a large room's whole state per event was O(members).
      const current = await reads.getCurrentStateEntries(event.roomId, authKeys(version, event));
      softFailed = !checkEventAuth(version, event, await stateLookup(current, version, event, reads)).allowed;
    }

    let currentChange: CurrentStateChange | undefined;
    if (!softFailed && !opts.backfilled) {
      const extremities = opts.extremities ?? (await reads.getForwardExtremities(event.roomId));
      const change = await this.states.currentStateChange(event, before.map, version, extremities, batch !== undefined && batch.size > 0);
      if (change === NEEDS_STORE) return NEEDS_STORE;
      currentChange = change;
    }
    const effectiveRedaction = await redactionTakesEffect(event, version, beforeLookup, reads);

    const stateBefore: StateInput =
      before.group !== undefined ? { group: before.group } : { map: before.map, ...(before.baseGroup !== undefined ? { baseGroup: before.baseGroup } : {}) };
    return {
      before,
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

  /** Verifies the signatures the event needs, with the keys the key ring has for their servers. */
  async signatures(event: RoomEvent, version: RoomVersion, redactedBytes?: Uint8Array): Promise<{ ok: true } | { ok: false; reason: string }> {
    const keys = new Map<string, VerifyKey>();
    for (const server of requiredSignatures(event.pdu, version)) {
      const keyIds = Object.keys(event.pdu.signatures?.[server] ?? {});
      for (const k of await this.keyRing.getVerifyKeys(server, keyIds)) keys.set(`${server}\u0000${k.keyId}`, k);
    }
    const r = verifyEventSignatures(event.pdu, version, (server, keyId) => keys.get(`${server}\u0000${keyId}`), redactedBytes);
    return r.ok ? { ok: true } : { ok: false, reason: r.reason };
  }
}

/** The auth rules' view of a list of events (e.g. an event's auth events). */
export function lookupIn(events: readonly RoomEvent[]): AuthStateLookup {
  const m = new Map<string, RoomEvent>();
  for (const e of events) if (e.stateKey !== undefined) m.set(stateKeyOf(e.type, e.stateKey), e);
  return (type, stateKey) => m.get(stateKeyOf(type, stateKey));
}

/** Exactly the state entries the auth rules consult for this event. */
function authKeys(version: RoomVersion, event: RoomEvent): Array<[string, string]> {
  const keys = authEventKeysFor(version, event);
  keys.push(['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.join_rules', '']);
  return keys;
}

async function stateLookup(state: StateMap, version: RoomVersion, event: RoomEvent, reads: Pick<EventStore, 'getEvents'>): Promise<AuthStateLookup> {
  const keys = authKeys(version, event);
  const ids = keys.map(([t, k]) => state.get(stateKeyOf(t, k))).filter((id): id is string => id !== undefined);
  const events = await reads.getEvents(ids);
  return (type, stateKey) => {
    const id = state.get(stateKeyOf(type, stateKey));
    return id === undefined ? undefined : events.get(id)?.event;
  };
}

/**
 * A redaction hides its target only if the target is in the same room and the redacter may
 * redact it: from v3 on the auth rules no longer check this, so servers check it here.
 */
async function redactionTakesEffect(event: RoomEvent, version: RoomVersion, state: AuthStateLookup, reads: Pick<EventStore, 'getEvent'>): Promise<boolean> {
  if (event.type !== 'm.room.redaction' || event.redacts === undefined) return false;
  const target = await reads.getEvent(event.redacts);
  if (!target || target.event.roomId !== event.roomId) return false;
  if (version.redactionAuthByEventIdDomain) return true;
  if (domainOf(target.event.sender) === domainOf(event.sender)) return true;
  return userPowerLevel(version, event.sender, state) >= namedPowerLevel(version, 'redact', state);
}
