/** Storage for federation: other servers' signing keys (and the responses that published them). */
import type { JsonObject } from '../core/json.js';

export interface StoredServerKey {
  serverName: string;
  keyId: string;
  /** Unpadded base64 public key. */
  publicKey: string;
  /** For current keys: the (already capped) end of validity; null for old keys. */
  validUntilTs: number | null;
  /** For keys published under `old_verify_keys`: when the server stopped using them. */
  expiredTs: number | null;
  fetchedTs: number;
}

export interface StoredKeyResponse {
  /** The key response as the server published it (with any notary signatures it arrived with). */
  response: JsonObject;
  /** The response's own `valid_until_ts`, uncapped. */
  validUntilTs: number;
  fetchedTs: number;
}

export interface ServerKeyStore {
  /**
   * Stores a verified key response and the keys it lists, in one transaction. A key already known
   * keeps the later of the two validity ends; once retired (expired_ts) it stays retired.
   */
  storeKeyResponse(serverName: string, response: StoredKeyResponse, keys: readonly StoredServerKey[]): Promise<void>;
  /** The server's known keys, all of them or only the given IDs. */
  getKeys(serverName: string, keyIds?: readonly string[]): Promise<StoredServerKey[]>;
  /** The latest stored response per key of the server (deduplicated), newest first. */
  getKeyResponses(serverName: string): Promise<StoredKeyResponse[]>;
}

/** One queued item for a destination: a PDU (by event ID) or an EDU. */
export interface OutboxItem {
  id: number;
  eventId: string | null;
  edu: JsonObject | null;
}

export interface DestinationState {
  destination: string;
  failures: number;
  /** No attempt before this time (0: none pending). */
  retryAfterTs: number;
}

/**
 * The outbound federation queue, persisted so a restart or a dead remote loses nothing. Items are
 * grouped into a transaction once (`claim`), and the same transaction is retried until acknowledged,
 * so the receiver's per-transaction idempotency holds.
 */
export interface FederationQueueStore {
  enqueuePdu(destinations: readonly string[], eventId: string, roomId: string): Promise<void>;
  /** Queues an EDU; with `coalesceKey`, replaces a not-yet-sent EDU with the same key for that destination. */
  enqueueEdu(destinations: readonly string[], edu: JsonObject, coalesceKey: string | undefined): Promise<void>;
  /**
   * The destination's current transaction: the items already claimed under an unacknowledged
   * transaction ID, or else the oldest pending items (at most `maxPdus` PDUs and `maxEdus` EDUs),
   * now claimed under `newTxnId`. Empty when nothing is pending.
   */
  claim(destination: string, newTxnId: string, maxPdus: number, maxEdus: number): Promise<{ txnId: string; items: OutboxItem[] }>;
  /** Removes a delivered transaction's items. */
  ack(destination: string, txnId: string): Promise<void>;
  /** Catch-up after an outage: keeps only the newest `keepPerRoom` unsent PDUs of each room. Returns how many were dropped. */
  trimPdus(destination: string, keepPerRoom: number): Promise<number>;
  countPending(destination: string): Promise<{ pdus: number; edus: number }>;
  destinationsWithPending(): Promise<string[]>;
  getDestination(destination: string): Promise<DestinationState | undefined>;
  setDestination(state: DestinationState): Promise<void>;
}

/** A received transaction's answer, kept per origin and transaction ID. */
export interface InboundTxnRecord {
  origin: string;
  txnId: string;
  result: JsonObject;
  ts: number;
}

/**
 * Received transactions, so a retried one gets the same answer and is not processed twice. (The
 * event store can write a record in the same transaction as the events: `persistEvents`.)
 */
export interface InboundTxnStore {
  getTxnResult(origin: string, txnId: string): Promise<JsonObject | undefined>;
  putTxnResult(origin: string, txnId: string, result: JsonObject, ts: number): Promise<void>;
  deleteTxnsOlderThan(ts: number): Promise<void>;
}
