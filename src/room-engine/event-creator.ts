/**
 * Creates this server's own events: picks prev events (the forward extremities), auth events
 * (the auth events selection over the state before), depth, then builds, signs and hands the
 * event to the pipeline like any other. All under the room's write lock.
 */
import { randomBytes } from 'node:crypto';
import { encodeBase64 } from '../core/base64.js';
import { canonicalJsonBytes } from '../core/canonical-json.js';
import { buildEvent } from '../core/event-builder.js';
import { MAX_PDU_BYTES } from '../core/event-format.js';
import { referenceHash } from '../core/event-hashes.js';
import type { JsonObject } from '../core/json.js';
import type { Pdu, RoomEvent } from '../core/pdu.js';
import { stateKeyOf } from '../core/pdu.js';
import type { SigningKey } from '../core/signing.js';
import type { PlannedEvent } from '../rooms/create-room-plan.js';
import { getRoomVersion, type RoomVersion } from '../rooms/versions.js';
import type { EventStore } from '../storage/event-store.js';
import { authEventKeysFor } from './core-rules.js';
import type { EventPipeline, PipelineOutcome, ResolvedState } from './event-pipeline.js';

/** The spec caps `prev_events` at 20; fewer keeps events small while still merging forks. */
const MAX_PREV_EVENTS = 10;

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

export class EventCreator {
  constructor(
    private readonly store: EventStore,
    private readonly pipeline: EventPipeline,
    private readonly serverName: string,
    private readonly key: SigningKey,
    private readonly now: () => number,
  ) {}

  /** Sends an event into an existing room; with `txn`, a repeat of the same transaction returns the first event. */
  send(roomId: string, draft: EventDraft, txn?: Txn): Promise<CreateResult> {
    return this.pipeline.exclusive(roomId, () => this.sendLocked(roomId, draft, txn));
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
      const previous = await this.store.getTxnEvent(txn.userId, txn.deviceId, txn.txnId);
      const stored = previous === undefined ? undefined : await this.store.getEvent(previous);
      if (stored) return { ok: true, event: stored.event, streamOrdering: stored.streamOrdering, version };
    }
    const extremities = (await this.store.getForwardExtremities(roomId)).slice(0, MAX_PREV_EVENTS);
    if (extremities.length === 0) return { ok: false, errcode: 'M_UNKNOWN', error: `room ${roomId} has no forward extremities` };
    const resolved = await this.pipeline.resolveStatesAfter(extremities, version);
    if (!resolved.ok) return { ok: false, errcode: 'M_UNKNOWN', error: resolved.reason };
    return this.buildAndAccept(roomId, version, draft, extremities, resolved.state, txn);
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
      const pdu = await this.buildPdu(roomId, version, draft, extremities, resolved.state);
      if (canonicalJsonBytes(pdu).length > MAX_PDU_BYTES) {
        return { ok: false, errcode: 'M_TOO_LARGE', error: `event is larger than ${MAX_PDU_BYTES} bytes` };
      }
      return { ok: true, pdu, version };
    });
  }

  private async buildPdu(
    roomId: string | undefined,
    version: RoomVersion,
    draft: EventDraft,
    prevEvents: string[],
    before: ResolvedState,
  ): Promise<Pdu> {
    const authIds: string[] = [];
    for (const [type, stateKey] of authEventKeysFor(version, draft)) {
      const id = before.map.get(stateKeyOf(type, stateKey));
      if (id !== undefined && !authIds.includes(id)) authIds.push(id);
    }
    const referenced = await this.store.getEvents([...prevEvents, ...authIds]);
    let depth = 1;
    for (const id of prevEvents) depth = Math.max(depth, (referenced.get(id)?.event.depth ?? 0) + 1);
    const refHashes = (id: string): string | undefined => {
      const e = referenced.get(id);
      return e && encodeBase64(referenceHash(e.event.pdu, version));
    };

    const { pdu } = buildEvent(
      {
        type: draft.type,
        stateKey: draft.stateKey,
        sender: draft.sender,
        content: draft.content,
        roomId,
        prevEvents,
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
    return pdu;
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
    const pdu = await this.buildPdu(roomId, version, draft, prevEvents, before);
    if (canonicalJsonBytes(pdu).length > MAX_PDU_BYTES) {
      return { ok: false, errcode: 'M_TOO_LARGE', error: `event is larger than ${MAX_PDU_BYTES} bytes` };
    }
    const outcome = await this.pipeline.acceptLocked(pdu, version, {
      origin: 'local',
      txn,
      stateBefore: before,
      newRoom: newRoomCreator === undefined ? undefined : { creator: newRoomCreator },
    });
    return toResult(outcome, version);
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

export function toResult(outcome: PipelineOutcome, version: RoomVersion): CreateResult {
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
  }
}

function randomLocalpart(): string {
  return randomBytes(12).toString('base64url');
}
