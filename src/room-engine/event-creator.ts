/**
 * Creates this server's own events: picks prev events (the forward extremities), auth events
 * (the auth events selection over the state before), depth, then builds, signs and hands the
 * event to the pipeline like any other. All under the room's write lock.
 *
 * Non-state events (messages, redactions) waiting for a room's lock are taken together: each is
 * built on the one before (its only prev event), checked by the pipeline, and the whole chain is
 * stored in one commit. They cannot change the state, so the state before every one of them is
 * the same and is resolved once per round. Each sender's promise still settles only after the
 * commit.
 */
import { randomBytes } from 'node:crypto';
import { encodeBase64 } from '../core/base64.js';
import { buildEvent } from '../core/event-builder.js';
import { MAX_PDU_BYTES, pduSize } from '../core/event-format.js';
import { referenceHash } from '../core/event-hashes.js';
import type { JsonObject } from '../core/json.js';
import type { Pdu, RoomEvent } from '../core/pdu.js';
import { stateKeyOf } from '../core/pdu.js';
import type { SigningKey } from '../core/signing.js';
import type { PlannedEvent } from '../rooms/create-room-plan.js';
import { getRoomVersion, type RoomVersion } from '../rooms/versions.js';
import type { EventStore } from '../storage/event-store.js';
import { authEventKeysFor } from './core-rules.js';
import type { CheckedEvent, EventPipeline, PipelineOutcome, ResolvedState } from './event-pipeline.js';

/** The spec caps `prev_events` at 20; fewer keeps events small while still merging forks. */
const MAX_PREV_EVENTS = 10;
/** At most this many messages go into one chain; the rest wait for the next round. */
const MAX_CHAIN = 200;

export interface EventDraft {
  type: string;
  stateKey?: string;
  sender: string;
  content: JsonObject;
  redacts?: string;
}

export type CreateErrorCode = 'M_FORBIDDEN' | 'M_NOT_FOUND' | 'M_TOO_LARGE' | 'M_BAD_JSON' | 'M_UNKNOWN';

export type CreateResult =
  | { ok: true; event: RoomEvent; streamOrdering: number; version: RoomVersion }
  | { ok: false; errcode: CreateErrorCode; error: string };

export interface Txn {
  userId: string;
  deviceId: string;
  txnId: string;
}

interface QueuedSend {
  draft: EventDraft;
  txn: Txn | undefined;
  resolve: (r: CreateResult) => void;
  reject: (err: unknown) => void;
}

type Built = { ok: true; pdu: Pdu } | { ok: false; result: CreateResult };

export class EventCreator {
  /** Per room: non-state sends waiting for the room's next round. */
  private readonly queued = new Map<string, QueuedSend[]>();
  /** Rooms with a round queued on the room lock that has not started yet (it will take every queued send). */
  private readonly roundPending = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly pipeline: EventPipeline,
    private readonly serverName: string,
    private readonly key: SigningKey,
    private readonly now: () => number,
  ) {}

  /** Sends an event into an existing room; with `txn`, a repeat of the same transaction returns the first event. */
  send(roomId: string, draft: EventDraft, txn?: Txn): Promise<CreateResult> {
    if (draft.stateKey !== undefined) return this.pipeline.exclusive(roomId, () => this.sendLocked(roomId, draft, txn));
    return new Promise<CreateResult>((resolve, reject) => {
      const queue = this.queued.get(roomId);
      if (queue) queue.push({ draft, txn, resolve, reject });
      else this.queued.set(roomId, [{ draft, txn, resolve, reject }]);
      this.scheduleRound(roomId);
    });
  }

  private scheduleRound(roomId: string): void {
    if (this.roundPending.has(roomId)) return;
    this.roundPending.add(roomId);
    void this.pipeline.exclusive(roomId, () => this.sendRound(roomId));
  }

  /** Takes the room's queued non-state sends and stores them as one chain (room lock held). */
  private async sendRound(roomId: string): Promise<void> {
    this.roundPending.delete(roomId);
    const all = this.queued.get(roomId) ?? [];
    this.queued.delete(roomId);
    let items = all.slice(0, MAX_CHAIN);
    const later = (rest: QueuedSend[]) => {
      if (rest.length === 0) return;
      this.queued.set(roomId, [...rest, ...(this.queued.get(roomId) ?? [])]);
      this.scheduleRound(roomId);
    };
    later(all.slice(MAX_CHAIN));
    try {
      const room = await this.store.getRoom(roomId);
      const version = room && getRoomVersion(room.version);
      if (!room || !version) {
        for (const it of items) it.resolve({ ok: false, errcode: 'M_NOT_FOUND', error: `unknown room ${roomId}` });
        items = [];
        return;
      }
      let extremities = (await this.store.getForwardExtremities(roomId)).slice(0, MAX_PREV_EVENTS);
      if (extremities.length === 0) {
        for (const it of items) it.resolve({ ok: false, errcode: 'M_UNKNOWN', error: `room ${roomId} has no forward extremities` });
        items = [];
        return;
      }
      const resolved = await this.pipeline.resolveStatesAfter(extremities, version);
      if (!resolved.ok) {
        for (const it of items) it.resolve({ ok: false, errcode: 'M_UNKNOWN', error: resolved.reason });
        items = [];
        return;
      }
      const before = resolved.state;
      const known = new Map<string, RoomEvent>();
      const firstOfTxn = new Map<string, QueuedSend>();
      const checked: CheckedEvent[] = [];
      const owners: QueuedSend[] = [];
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        // A new state group for the resolved state is only numbered once stored: chain on it next round.
        if (checked.length > 0 && before.group === undefined) {
          later(items.slice(i));
          items = items.slice(0, i);
          break;
        }
        if (it.txn) {
          const key = `${it.txn.userId}\u0000${it.txn.deviceId}\u0000${it.txn.txnId}`;
          const first = firstOfTxn.get(key);
          if (first) {
            const settle = first.resolve;
            first.resolve = (r) => {
              settle(r);
              it.resolve(r);
            };
            continue;
          }
          firstOfTxn.set(key, it);
          const stored = await this.storedTxnResult(it.txn, version);
          if (stored) {
            it.resolve(stored);
            continue;
          }
        }
        const built = await this.buildPdu(roomId, version, it.draft, extremities, before, known);
        if (!built.ok) {
          it.resolve(built.result);
          continue;
        }
        const c = await this.pipeline.check(built.pdu, version, { origin: 'local', txn: it.txn, stateBefore: before, extremities });
        if (c.write === undefined) {
          it.resolve(toResult(c.outcome, version));
          continue;
        }
        checked.push(c);
        owners.push(it);
        known.set(c.write.event.eventId, c.write.event);
        extremities = [c.write.event.eventId];
      }
      const outcomes = await this.pipeline.commit(checked);
      for (let i = 0; i < outcomes.length; i++) owners[i].resolve(toResult(outcomes[i], version));
    } catch (err) {
      // Settling twice is a no-op, so whoever already has an answer keeps it.
      for (const it of items) it.reject(err);
    }
  }

  private async storedTxnResult(txn: Txn, version: RoomVersion): Promise<CreateResult | undefined> {
    const previous = await this.store.getTxnEvent(txn.userId, txn.deviceId, txn.txnId);
    const stored = previous === undefined ? undefined : await this.store.getEvent(previous);
    return stored && { ok: true, event: stored.event, streamOrdering: stored.streamOrdering, version };
  }

  /** Runs `task` with the room's write lock held; use `sendLocked` inside it. */
  exclusive<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    return this.pipeline.exclusive(roomId, task);
  }

  async sendLocked(roomId: string, draft: EventDraft, txn?: Txn): Promise<CreateResult> {
    const room = await this.store.getRoom(roomId);
    const version = room && getRoomVersion(room.version);
    if (!room || !version) return { ok: false, errcode: 'M_NOT_FOUND', error: `unknown room ${roomId}` };
    if (txn) {
      const stored = await this.storedTxnResult(txn, version);
      if (stored) return stored;
    }
    const extremities = (await this.store.getForwardExtremities(roomId)).slice(0, MAX_PREV_EVENTS);
    if (extremities.length === 0) return { ok: false, errcode: 'M_UNKNOWN', error: `room ${roomId} has no forward extremities` };
    const resolved = await this.pipeline.resolveStatesAfter(extremities, version);
    if (!resolved.ok) return { ok: false, errcode: 'M_UNKNOWN', error: resolved.reason };
    return this.buildAndAccept(roomId, version, draft, extremities, resolved.state, txn);
  }

  private async buildAndAccept(
    roomId: string | undefined,
    version: RoomVersion,
    draft: EventDraft,
    prevEvents: string[],
    before: ResolvedState,
    txn: Txn | undefined,
    newRoomCreator?: string,
  ): Promise<CreateResult> {
    const built = await this.buildPdu(roomId, version, draft, prevEvents, before, new Map());
    if (!built.ok) return built.result;
    const outcome = await this.pipeline.acceptLocked(built.pdu, version, {
      origin: 'local',
      txn,
      stateBefore: before,
      newRoom: newRoomCreator === undefined ? undefined : { creator: newRoomCreator },
    });
    return toResult(outcome, version);
  }

  /**
   * Builds and signs an event on top of the room's forward extremities without accepting it:
   * for events another server must countersign first (an invite to a remote user).
   */
  async build(roomId: string, draft: EventDraft): Promise<{ ok: true; pdu: Pdu; version: RoomVersion } | { ok: false; errcode: CreateErrorCode; error: string }> {
    return this.pipeline.exclusive(roomId, async () => {
      const room = await this.store.getRoom(roomId);
      const version = room && getRoomVersion(room.version);
      if (!room || !version) return { ok: false, errcode: 'M_NOT_FOUND', error: `unknown room ${roomId}` };
      const extremities = (await this.store.getForwardExtremities(roomId)).slice(0, MAX_PREV_EVENTS);
      if (extremities.length === 0) return { ok: false, errcode: 'M_UNKNOWN', error: `room ${roomId} has no forward extremities` };
      const resolved = await this.pipeline.resolveStatesAfter(extremities, version);
      if (!resolved.ok) return { ok: false, errcode: 'M_UNKNOWN', error: resolved.reason };
      const built = await this.buildPdu(roomId, version, draft, extremities, resolved.state, new Map());
      if (!built.ok) {
        const r = built.result;
        return r.ok ? { ok: false, errcode: 'M_UNKNOWN', error: 'unexpected build result' } : { ok: false, errcode: r.errcode, error: r.error };
      }
      return { ok: true, pdu: built.pdu, version };
    });
  }

  /** Builds and signs an event on `prevEvents`; `known` holds events not (yet) in the store and is filled as a cache. */
  private async buildPdu(
    roomId: string | undefined,
    version: RoomVersion,
    draft: EventDraft,
    prevEvents: readonly string[],
    before: ResolvedState,
    known: Map<string, RoomEvent>,
  ): Promise<Built> {
    const authIds: string[] = [];
    for (const [type, stateKey] of authEventKeysFor(version, draft)) {
      const id = before.map.get(stateKeyOf(type, stateKey));
      if (id !== undefined && !authIds.includes(id)) authIds.push(id);
    }
    const missing = [...prevEvents, ...authIds].filter((id) => !known.has(id));
    if (missing.length > 0) for (const [id, e] of await this.store.getEvents(missing)) known.set(id, e.event);
    let depth = 1;
    for (const id of prevEvents) depth = Math.max(depth, (known.get(id)?.depth ?? 0) + 1);
    const refHashes = (id: string): string | undefined => {
      const e = known.get(id);
      return e && encodeBase64(referenceHash(e.pdu, version));
    };

    const { pdu } = buildEvent(
      {
        type: draft.type,
        stateKey: draft.stateKey,
        sender: draft.sender,
        content: draft.content,
        roomId,
        prevEvents: [...prevEvents],
        authEvents: authIds,
        depth,
        originServerTs: this.now(),
        redacts: draft.redacts,
      },
      version,
      this.serverName,
      this.key,
      refHashes,
    );
    if (pduSize(pdu) > MAX_PDU_BYTES) {
      return { ok: false, result: { ok: false, errcode: 'M_TOO_LARGE', error: `event is larger than ${MAX_PDU_BYTES} bytes` } };
    }
    return { ok: true, pdu };
  }

  /**
   * Creates a room from a plan (src/rooms/create-room-plan.ts): the create event, then every
   * planned event in order, each on top of the previous one. Returns the room ID and, if an
   * event is refused part-way, which one and why.
   */
  async createRoom(
    version: RoomVersion,
    creator: string,
    events: readonly PlannedEvent[],
  ): Promise<{ ok: true; roomId: string } | { ok: false; roomId?: string; errcode: CreateErrorCode; error: string }> {
    const [create, ...rest] = events;
    const roomId = version.roomIdFromCreateEvent ? undefined : `!${randomLocalpart()}:${this.serverName}`;
    const draft = { type: create.type, stateKey: create.stateKey, sender: creator, content: create.content };
    const created = await this.buildAndAccept(roomId, version, draft, [], { map: new Map(), group: undefined }, undefined, creator);
    if (!created.ok) return created;
    const id = created.event.roomId;
    return this.pipeline.exclusive(id, async () => {
      for (const ev of rest) {
        const r = await this.sendLocked(id, { type: ev.type, stateKey: ev.stateKey, sender: creator, content: ev.content });
        if (!r.ok) return { ok: false, roomId: id, errcode: r.errcode, error: `${ev.type} (${ev.stateKey}): ${r.error}` };
      }
      return { ok: true, roomId: id };
    });
  }
}

function toResult(outcome: PipelineOutcome, version: RoomVersion): CreateResult {
  switch (outcome.status) {
    case 'persisted':
    case 'duplicate':
      return { ok: true, event: outcome.event, streamOrdering: outcome.streamOrdering, version };
    case 'rejected':
      return { ok: false, errcode: 'M_FORBIDDEN', error: outcome.reason };
    case 'invalid':
      return { ok: false, errcode: 'M_BAD_JSON', error: outcome.reason };
    case 'soft_failed':
      return { ok: false, errcode: 'M_FORBIDDEN', error: 'event was soft-failed' };
    case 'error':
      return { ok: false, errcode: 'M_UNKNOWN', error: outcome.reason };
  }
}

function randomLocalpart(): string {
  return randomBytes(12).toString('base64url');
}
