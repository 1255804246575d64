/**
 * Read receipts (`m.read`, and `m.read.private` which only its owner ever sees), threaded or not.
 * Stored (src/storage/ephemeral-store.ts) with a stream position per write; `changesFor` gives the
 * `m.receipt` events for a user's rooms between two positions, one event per room batching every
 * receipt written in that range (each receipt is the latest for its user, type and thread).
 */
import type { JsonObject } from '../core/json.js';
import { isJsonObject } from '../core/json.js';
import { forbidden, invalidParam, notFound } from '../http/errors.js';
import type { Notifier } from '../notifier.js';
import type { ReceiptRecord } from '../storage/ephemeral-store.js';
import type { Storage } from '../storage/storage.js';
import { CoalescedWake } from './coalesced-wake.js';
import { Listeners } from './listeners.js';

export const RECEIPT_TYPES = ['m.read', 'm.read.private'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];

/** A public receipt, as the federation sender needs it for an `m.receipt` EDU. */
export interface ReceiptUpdate {
  roomId: string;
  userId: string;
  eventId: string;
  ts: number;
  threadId: string | null;
}

export class ReceiptsService {
  /** Local users' public (`m.read`) receipts. Private receipts never leave the server. */
  readonly localChanges: Listeners<[ReceiptUpdate]>;
  private readonly wake: CoalescedWake;

  constructor(
    private readonly storage: Storage,
    notifier: Notifier,
    private readonly now: () => number,
    onListenerError?: (err: unknown) => void,
    /** Receipts wake readers in batches over this many ms (see coalesced-wake.ts). */
    wakeCoalesceMs = 0,
  ) {
    this.localChanges = new Listeners(onListenerError);
    this.wake = new CoalescedWake(notifier, 'receipts', wakeCoalesceMs);
  }

  close(): void {
    this.wake.close();
  }

  /**
   * A local user's receipt. Throws MatrixErrors: 403 when not joined, 404 for an event not in
   * the room, 400 for a thread that does not fit the event. An older receipt than the stored one
   * of the same type and thread is accepted and ignored.
   */
  async setReceipt(roomId: string, userId: string, type: ReceiptType, eventId: string, threadId: string | null): Promise<void> {
    const member = await this.storage.events.getMembership(roomId, userId);
    if (member?.membership !== 'join') throw forbidden('You are not in this room.');
    const stored = await this.storage.events.getEvent(eventId);
    if (!stored || stored.event.roomId !== roomId || stored.outlier || stored.rejectedReason !== undefined) {
      throw notFound('Event not found in this room.');
    }
    if (threadId !== null) checkThread(threadId, eventId, stored.event.content);
    const ts = this.now();
    const streamId = await this.storage.receipts.put({
      roomId,
      receiptType: type,
      userId,
      threadId,
      eventId,
      eventStream: stored.streamOrdering,
      ts,
    });
    if (streamId === undefined) return;
    this.wake.changed([roomId]);
    if (type === 'm.read') this.localChanges.emit({ roomId, userId, eventId, ts, threadId });
  }

  /** A public receipt from another server's `m.receipt` EDU (the caller checked the origin). */
  async applyRemote(update: ReceiptUpdate): Promise<void> {
    const stored = await this.storage.events.getEvent(update.eventId);
    const streamId = await this.storage.receipts.put({
      roomId: update.roomId,
      receiptType: 'm.read',
      userId: update.userId,
      threadId: update.threadId,
      eventId: update.eventId,
      eventStream: stored?.event.roomId === update.roomId ? stored.streamOrdering : 0,
      ts: update.ts,
    });
    if (streamId !== undefined) this.wake.changed([update.roomId]);
  }

  /** The stream ordering of the user's latest read receipt (either type, unthreaded or `main`), 0 if none. */
  async readUpTo(roomId: string, userId: string): Promise<number> {
    let best = 0;
    for (const r of await this.storage.receipts.getForUser(roomId, userId)) {
      if (r.threadId === null || r.threadId === 'main') best = Math.max(best, r.eventStream);
    }
    return best;
  }

  currentPosition(): Promise<number> {
    return this.storage.receipts.currentStreamId();
  }

  /** Per room: one `m.receipt` event with the receipts written in (fromExclusive, toInclusive] that `userId` may see. */
  async changesFor(userId: string, roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<Map<string, JsonObject>> {
    const out = new Map<string, JsonObject>();
    const records = await this.storage.receipts.changesInRooms(roomIds, fromExclusive, toInclusive);
    for (const r of records) {
      if (r.receiptType === 'm.read.private' && r.userId !== userId) continue;
      let ev = out.get(r.roomId);
      if (!ev) {
        ev = { type: 'm.receipt', content: {} };
        out.set(r.roomId, ev);
      }
      addToContent(ev.content as JsonObject, r);
    }
    return out;
  }
}

function addToContent(content: JsonObject, r: ReceiptRecord): void {
  const byEvent = child(content, r.eventId);
  const byType = child(byEvent, r.receiptType);
  const entry: JsonObject = { ts: r.ts };
  if (r.threadId !== null) entry.thread_id = r.threadId;
  byType[r.userId] = entry;
}

function child(obj: JsonObject, key: string): JsonObject {
  const existing = obj[key];
  if (isJsonObject(existing)) return existing;
  const created: JsonObject = {};
  obj[key] = created;
  return created;
}

/** `thread_id` must be `main` for an event outside threads, or the root of the event's thread. */
function checkThread(threadId: string, eventId: string, content: JsonObject): void {
  const rel = content['m.relates_to'];
  const inThread = isJsonObject(rel) && rel.rel_type === 'm.thread' && typeof rel.event_id === 'string' ? rel.event_id : undefined;
  if (threadId === 'main') {
    if (inThread !== undefined) throw invalidParam(`${eventId} is in thread ${inThread}, not the main timeline`);
    return;
  }
  if (threadId !== eventId && threadId !== inThread) throw invalidParam(`${eventId} is not in thread ${threadId}`);
}
