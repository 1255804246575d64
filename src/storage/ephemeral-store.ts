/**
 * Storage for the real-time streams that must survive a restart: receipts, to-device messages,
 * the device-list change log and explicitly set presence. Typing and connection-derived presence
 * are in memory (src/ephemeral/).
 */
import type { JsonObject } from '../core/json.js';

export interface ReceiptRecord {
  roomId: string;
  /** `m.read` or `m.read.private`. */
  receiptType: string;
  userId: string;
  /** null: an unthreaded receipt; otherwise a thread root's event ID or `main`. */
  threadId: string | null;
  eventId: string;
  /** Stream ordering of the receipted event (0 when unknown here, e.g. from another server). */
  eventStream: number;
  ts: number;
  streamId: number;
}

export type NewReceipt = Omit<ReceiptRecord, 'streamId'>;

export interface ReceiptStore {
  /**
   * Stores the receipt, replacing the user's previous one of that type and thread unless that one
   * points at a later event (receipts only move forward). Returns the stream position, or
   * undefined when nothing changed.
   */
  put(receipt: NewReceipt): Promise<number | undefined>;
  /** Receipts in `roomIds` written in (fromExclusive, toInclusive], oldest first. */
  changesInRooms(roomIds: readonly string[], fromExclusive: number, toInclusive: number): Promise<ReceiptRecord[]>;
  /** The user's receipts in the room (every type and thread). */
  getForUser(roomId: string, userId: string): Promise<ReceiptRecord[]>;
  currentStreamId(): Promise<number>;
}

export interface ToDeviceMessage {
  userId: string;
  deviceId: string;
  type: string;
  content: JsonObject;
}

export interface QueuedToDevice {
  streamId: number;
  sender: string;
  type: string;
  content: JsonObject;
}

export interface ToDeviceStore {
  /**
   * Queues the messages unless the sender's device already used `txnId` (then nothing is queued
   * and `duplicate` is true). `txn` null: no idempotency record (messages from other servers
   * carry their own deduplication). Returns the highest position written.
   */
  enqueue(
    sender: string,
    txn: { deviceId: string; txnId: string } | null,
    messages: readonly ToDeviceMessage[],
    now: number,
  ): Promise<{ duplicate: boolean; streamId: number }>;
  /** Messages for the device in (fromExclusive, toInclusive], oldest first, at most `limit`. */
  pending(userId: string, deviceId: string, fromExclusive: number, toInclusive: number, limit: number): Promise<QueuedToDevice[]>;
  /** Drops the device's messages at or before `upTo` (the client has acknowledged them). */
  acknowledge(userId: string, deviceId: string, upTo: number): Promise<void>;
  /** Drops every message queued for these devices (they were deleted). */
  dropDevices(userId: string, deviceIds: readonly string[]): Promise<void>;
  currentStreamId(): Promise<number>;
}

export interface DeviceListStore {
  /** Records that these users' device lists changed; returns the new position. */
  markChanged(userIds: readonly string[]): Promise<number>;
  /** Users whose device lists changed in (fromExclusive, toInclusive]. */
  changedBetween(fromExclusive: number, toInclusive: number): Promise<string[]>;
  /** The user's latest change position below `beforeExclusive` (all of them when omitted); 0 when none. */
  lastChangeFor(userId: string, beforeExclusive?: number): Promise<number>;
  currentStreamId(): Promise<number>;
}

export interface PresenceStatus {
  state: 'online' | 'unavailable' | 'offline';
  statusMsg: string | null;
}

export interface PresenceStore {
  getStatus(userId: string): Promise<PresenceStatus | undefined>;
  setStatus(userId: string, status: PresenceStatus): Promise<void>;
}
