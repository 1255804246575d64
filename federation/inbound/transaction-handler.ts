/**
 * Inbound transactions (`PUT /send/{txnId}`): the PDUs go through the event pipeline as remote
 * events. Those that build on what is stored (or on each other) are checked one after the other
 * and stored together, in one storage transaction (`pipeline.acceptBatch`). A PDU with prev
 * events neither stored nor in the transaction has the batch so far stored first, then its
 * missing prev events fetched from the origin (`get_missing_events`) and, where the gap cannot
 * be closed, the state at the gap fetched (`/state_ids`, then the events not known yet) so it can
 * still be checked against the state before it. EDUs go to the registry. Results are stored per
 * origin and transaction ID so a retried transaction is answered the same: in the storage
 * transaction of the last batch when the transaction has no EDUs, else once the EDUs are applied.
 */
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import { checkContentHash } from '../../src/core/event-hashes.js';
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { domainOf, type RoomEvent, type StateMap, stateKeyOf } from '../../src/core/pdu.js';
import type { Logger } from '../../src/logger.js';
import type { BatchItem, EventPipeline, PipelineOutcome } from '../../src/room-engine/event-pipeline.js';
import { getRoomVersion, type RoomVersion } from '../../src/rooms/versions.js';
import type { EventStore } from '../../src/storage/event-store.js';
import type { InboundTxnRecord, InboundTxnStore } from '../../src/storage/federation-store.js';
import type { EduRegistry } from '../edu/edu-registry.js';
import type { ServerAcls } from '../http/server-acls.js';
import { fetchMissingAuthEvents, fetchOutliers } from './fetch-outliers.js';

export interface RemoteFetcher {
  request<T>(destination: string, method: string, path: string, opts?: { query?: Record<string, string>; body?: JsonObject }): Promise<T>;
}

export interface TransactionHandlerDeps {
  serverName: string;
  pipeline: EventPipeline;
  events: EventStore;
  txns: InboundTxnStore;
  edus: EduRegistry;
  acl: ServerAcls;
  client: RemoteFetcher;
  logger: Logger;
  now: () => number;
}

export const MAX_PDUS = 50;
export const MAX_EDUS = 100;
const MISSING_EVENTS_LIMIT = 20;

export interface Transaction {
  origin: string;
  pdus: unknown[];
  edus: unknown[];
}

const enc = encodeURIComponent;

/** A PDU that passed the transaction's own checks, ready for the pipeline. */
interface ReadyPdu {
  raw: unknown;
  event: RoomEvent;
  version: RoomVersion;
}

type PduResult = { eventId: string; error?: string };

export class TransactionHandler {
  /** One transaction at a time per origin, as the spec expects senders to behave anyway. */
  private readonly perOrigin = new Map<string, Promise<unknown>>();

  constructor(private readonly d: TransactionHandlerDeps) {}

  async handle(origin: string, txnId: string, txn: Transaction): Promise<JsonObject> {
    const prev = this.perOrigin.get(origin) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.handleLocked(origin, txnId, txn));
    this.perOrigin.set(origin, run);
    try {
      return await run;
    } finally {
      if (this.perOrigin.get(origin) === run) this.perOrigin.delete(origin);
    }
  }

  private async handleLocked(origin: string, txnId: string, txn: Transaction): Promise<JsonObject> {
    const done = await this.d.txns.getTxnResult(origin, txnId);
    if (done) return done;
    const pdus: JsonObject = {};
    const report = (r: PduResult) => {
      pdus[r.eventId] = answer(r);
    };
    const ready: ReadyPdu[] = [];
    for (const raw of txn.pdus) {
      const r = await this.precheck(origin, raw);
      if (r === undefined) continue;
      if ('error' in r) report(r);
      else ready.push(r);
    }
    // Parents before children (a stable sort: senders send in order, this only mends the odd one out).
    ready.sort((a, b) => a.event.depth - b.event.depth);
    let batch: ReadyPdu[] = [];
    const inBatch = new Set<string>();
    for (const p of ready) {
      if (inBatch.has(p.event.eventId)) continue;
      const missing = (await this.missingPrevs(p.event)).filter((id) => !inBatch.has(id));
      if (missing.length === 0) {
        await this.fetchMissingAuth(origin, p, inBatch);
        batch.push(p);
        inBatch.add(p.event.eventId);
        continue;
      }
      // Fetching fills the graph through the pipeline: what this PDU may build on is stored first.
      for (const r of (await this.acceptBatch(origin, batch)).results) report(r);
      batch = [];
      inBatch.clear();
      report(this.result(origin, p.event, await this.acceptWithPrevs(origin, p.raw, p.event, p.version, true)));
    }
    // Without EDUs the answer is complete once the last batch is checked: it is stored with that
    // batch's events, one commit instead of two. EDUs are applied after the PDUs (a typing
    // notification may follow its user's join), and a crash before they are must not leave a
    // stored answer that keeps a retry from applying them: then the answer is stored after them.
    const record =
      txn.edus.length === 0
        ? (last: readonly PduResult[]): InboundTxnRecord => {
            const all: JsonObject = { ...pdus };
            for (const r of last) all[r.eventId] = answer(r);
            return { origin, txnId, result: { pdus: all }, ts: this.d.now() };
          }
        : undefined;
    const last = await this.acceptBatch(origin, batch, record);
    for (const r of last.results) report(r);
    for (const edu of txn.edus) {
      if (!isJsonObject(edu) || typeof edu.edu_type !== 'string' || !isJsonObject(edu.content)) continue;
      await this.d.edus.dispatch(origin, edu.edu_type, edu.content);
    }
    const result: JsonObject = { pdus };
    if (!last.recordStored) await this.d.txns.putTxnResult(origin, txnId, result, this.d.now());
    return result;
  }

  /** The checks of the transaction itself: a PDU for the pipeline, a refusal to report, or undefined for input with no event ID. */
  private async precheck(origin: string, raw: unknown): Promise<ReadyPdu | (PduResult & { error: string }) | undefined> {
    const roomId = isJsonObject(raw) && typeof raw.room_id === 'string' ? raw.room_id : undefined;
    if (roomId === undefined) {
      this.d.logger.warn({ origin }, 'dropped a PDU without room_id');
      return undefined;
    }
    const room = await this.d.events.getRoom(roomId);
    const version = room && getRoomVersion(room.version);
    if (!version) {
      this.d.logger.info({ origin, roomId }, 'dropped a PDU for a room this server is not in');
      return undefined;
    }
    const valid = validatePdu(raw, version);
    if (!valid.ok) {
      this.d.logger.warn({ origin, roomId, reason: valid.reason }, 'dropped a malformed PDU');
      return undefined;
    }
    const event = toRoomEvent(valid.value, version);
    if (domainOf(event.sender) !== origin) return this.refuse(origin, event, `sender ${event.sender} does not belong to origin ${origin}`);
    if (!(await this.d.acl.allows(origin, roomId))) return this.refuse(origin, event, `${origin} is denied by the room's server ACL`);
    if (!checkContentHash(valid.value)) {
      // Spec: a PDU whose content hash does not match is redacted and then processed as usual.
      this.d.logger.warn({ origin, eventId: event.eventId }, 'content hash mismatch; processing the PDU redacted');
    }
    return { raw, event, version };
  }

  /**
   * Checks and stores PDUs whose prev events are stored or earlier in the list, in one storage
   * transaction; with `record`, the transaction's answer built from their results goes into it too.
   */
  private async acceptBatch(
    origin: string,
    batch: readonly ReadyPdu[],
    record?: (results: readonly PduResult[]) => InboundTxnRecord,
  ): Promise<{ results: PduResult[]; recordStored: boolean }> {
    if (batch.length === 0) return { results: [], recordStored: false };
    const items: BatchItem[] = batch.map((p) => ({ raw: p.raw, version: p.version, opts: { origin: 'remote' } }));
    const resultsOf = (outcomes: readonly PipelineOutcome[]) => batch.map((p, i) => resultOf(p.event, outcomes[i]));
    const done = await this.d.pipeline.acceptBatch(items, record && { inboundTxn: (outcomes) => record(resultsOf(outcomes)) });
    return { results: batch.map((p, i) => this.result(origin, p.event, done.outcomes[i])), recordStored: done.inboundTxnStored };
  }

  /** The PDU's result, logged. */
  private result(origin: string, event: RoomEvent, outcome: PipelineOutcome): PduResult {
    const r = resultOf(event, outcome);
    if (r.error !== undefined) return this.refuse(origin, event, r.error);
    if (outcome.status === 'soft_failed') this.d.logger.info({ origin, eventId: event.eventId }, 'soft-failed a PDU');
    return r;
  }

  private refuse(origin: string, event: RoomEvent, error: string): PduResult & { error: string } {
    this.d.logger.warn({ origin, eventId: event.eventId, reason: error }, 'refused a PDU');
    return { eventId: event.eventId, error };
  }

  private async missingPrevs(event: RoomEvent): Promise<string[]> {
    const out: string[] = [];
    for (const id of event.prevEventIds) if (!(await this.d.events.getEventStateGroups(id))) out.push(id);
    return out;
  }

  private async acceptWithPrevs(origin: string, raw: unknown, event: RoomEvent, version: RoomVersion, fetch: boolean): Promise<PipelineOutcome> {
    let missing = await this.missingPrevs(event);
    if (missing.length > 0 && fetch) {
      await this.fetchMissingEvents(origin, event, version);
      missing = await this.missingPrevs(event);
    }
    if (missing.length === 0) return this.d.pipeline.accept(raw, version, { origin: 'remote' });
    if (!fetch) return { status: 'rejected', event, reason: `prev events not known: ${missing.join(', ')}` };
    const state = await this.stateAtGap(origin, event, version, missing);
    if (!state.ok) return { status: 'rejected', event, reason: state.reason };
    return this.d.pipeline.accept(raw, version, { origin: 'remote', stateBefore: { map: state.map, group: undefined } });
  }

  /** `get_missing_events` between our forward extremities and the event; the ones returned go through the pipeline oldest first. */
  private async fetchMissingEvents(origin: string, event: RoomEvent, version: RoomVersion): Promise<void> {
    let res: { events?: unknown };
    try {
      res = await this.d.client.request(origin, 'POST', `/_matrix/federation/v1/get_missing_events/${enc(event.roomId)}`, {
        body: {
          earliest_events: await this.d.events.getForwardExtremities(event.roomId),
          latest_events: [event.eventId],
          limit: MISSING_EVENTS_LIMIT,
          min_depth: 0,
        },
      });
    } catch (err) {
      this.d.logger.info({ origin, eventId: event.eventId, err: (err as Error).message }, 'get_missing_events failed');
      return;
    }
    const fetched: Array<{ raw: unknown; event: RoomEvent }> = [];
    for (const raw of Array.isArray(res.events) ? res.events : []) {
      const v = validatePdu(raw, version);
      if (v.ok) fetched.push({ raw, event: toRoomEvent(v.value, version) });
    }
    fetched.sort((a, b) => a.event.depth - b.event.depth);
    for (const f of fetched) {
      if (f.event.roomId !== event.roomId || f.event.eventId === event.eventId) continue;
      const r = await this.acceptWithPrevs(origin, f.raw, f.event, version, false);
      if (r.status === 'rejected' && /prev events not known/.test(r.reason)) {
        // The oldest fetched events sit on the far side of a gap: fill it once, from their state.
        const state = await this.stateAtGap(origin, f.event, version, await this.missingPrevs(f.event));
        if (state.ok) await this.d.pipeline.accept(f.raw, version, { origin: 'remote', stateBefore: { map: state.map, group: undefined } });
      }
    }
  }

  /**
   * The state before `event` when some prev events are unknown: for each unknown prev, its state
   * from the origin (`/state_ids` gives the state before it; the prev itself is added), for known
   * prevs the stored state after them; several states are resolved by the pipeline's resolver.
   */
  private async stateAtGap(
    origin: string,
    event: RoomEvent,
    version: RoomVersion,
    missing: readonly string[],
  ): Promise<{ ok: true; map: StateMap } | { ok: false; reason: string }> {
    const maps: StateMap[] = [];
    for (const prevId of missing) {
      let ids: { pdu_ids?: unknown; auth_chain_ids?: unknown };
      try {
        ids = await this.d.client.request(origin, 'GET', `/_matrix/federation/v1/state_ids/${enc(event.roomId)}`, { query: { event_id: prevId } });
      } catch (err) {
        return { ok: false, reason: `cannot get the state at ${prevId}: ${(err as Error).message}` };
      }
      const stateIds = strings(ids.pdu_ids);
      const wanted = [...strings(ids.auth_chain_ids), ...stateIds, prevId];
      await this.fetchOutliers(origin, wanted, version);
      const known = await this.d.events.getEvents([...stateIds, prevId]);
      const map = new Map<string, string>();
      for (const id of stateIds) {
        const e = known.get(id);
        if (e && e.rejectedReason === undefined && e.event.stateKey !== undefined) map.set(stateKeyOf(e.event.type, e.event.stateKey), id);
      }
      const prev = known.get(prevId);
      if (!prev) return { ok: false, reason: `prev event ${prevId} could not be fetched` };
      if (prev.event.stateKey !== undefined && prev.rejectedReason === undefined) map.set(stateKeyOf(prev.event.type, prev.event.stateKey), prevId);
      maps.push(map);
    }
    const knownPrevs = event.prevEventIds.filter((id) => !missing.includes(id));
    if (knownPrevs.length === 0 && maps.length === 1) return { ok: true, map: maps[0] };
    for (const id of knownPrevs) {
      const s = await this.d.events.getStateAfter(id);
      if (s) maps.push(s);
    }
    return { ok: true, map: await this.d.pipeline.resolveStates(maps, version) };
  }

  /** Prev events known, auth events not: those are fetched from the origin first (fetch-outliers.ts). */
  private fetchMissingAuth(origin: string, p: ReadyPdu, inBatch: ReadonlySet<string>): Promise<void> {
    const d = { events: this.d.events, pipeline: this.d.pipeline, client: this.d.client, logger: this.d.logger };
    return fetchMissingAuthEvents(d, origin, p.event, p.version, inBatch);
  }

  private fetchOutliers(origin: string, eventIds: readonly string[], version: RoomVersion): Promise<void> {
    return fetchOutliers({ events: this.d.events, pipeline: this.d.pipeline, client: this.d.client, logger: this.d.logger }, origin, eventIds, version);
  }
}

/** What the answer to the transaction says about a PDU that went to the pipeline. */
function resultOf(event: RoomEvent, outcome: PipelineOutcome): PduResult {
  if (outcome.status === 'persisted' || outcome.status === 'duplicate' || outcome.status === 'soft_failed') return { eventId: event.eventId };
  return { eventId: event.eventId, error: outcome.reason };
}

function answer(r: PduResult): JsonObject {
  return r.error === undefined ? {} : { error: r.error };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
