/**
 * The WebSocket sync wire format (docs/websocket-sync.md is the contract): the client frames the
 * server accepts, with their schemas, the server frames it sends, and the close codes.
 */
import { z } from 'zod';
import type { JsonText } from '../core/json-text.js';
import type { JsonObject } from '../core/json.js';
import { jsonObject } from '../http/validation.js';

export const WS_SYNC_PATH = '/_matrix/client/unstable/org.comet.ws';

/** Close codes (4xxx: application codes, mirroring HTTP statuses where one fits). */
export const CloseCode = {
  normal: 1000,
  /** The server is shutting down. */
  goingAway: 1001,
  /** A frame exceeded max_request_body_bytes (sent by the ws library itself). */
  tooBig: 1009,
  internalError: 1011,
  /** Bad connection parameters: since, filter, set_presence, or a malformed auth frame. */
  badRequest: 4400,
  /** Missing, unknown or expired access token; also logout, device deletion and deactivation. */
  unauthorized: 4401,
  /** No auth frame within websocket.auth_timeout_ms. */
  authTimeout: 4408,
  /** The client read too slowly: more than websocket.max_buffered_bytes queued for it. */
  tooSlow: 4429,
} as const;

const requestId = z.string().min(1).max(128);
const presenceState = z.enum(['online', 'unavailable', 'offline']);

/** Sync parameters, as /sync takes them: on the URL query, or in the auth frame. */
export const syncParams = z.object({
  since: z.string().optional(),
  /** A filter ID, inline filter JSON as a string (as in the /sync query), or the filter object itself. */
  filter: z.union([z.string(), jsonObject]).optional(),
  full_state: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
  set_presence: presenceState.optional(),
});
export type SyncParams = z.infer<typeof syncParams>;

export const authFrame = syncParams.extend({
  type: z.literal('auth'),
  access_token: z.string().min(1),
});

export const sendFrame = z.object({
  type: z.literal('send'),
  request_id: requestId,
  room_id: z.string().min(1),
  event_type: z.string().min(1),
  /** Required for messages (idempotency, as in PUT /send/{type}/{txnId}); absent for state events. */
  txn_id: z.string().min(1).optional(),
  /** Present: a state event (PUT /state/{type}/{stateKey}). */
  state_key: z.string().optional(),
  content: jsonObject,
});

export const typingFrame = z.object({
  type: z.literal('typing'),
  request_id: requestId,
  room_id: z.string().min(1),
  typing: z.boolean(),
  timeout: z.number().int().min(0).optional(),
});

export const receiptFrame = z.object({
  type: z.literal('receipt'),
  request_id: requestId,
  room_id: z.string().min(1),
  receipt_type: z.string().min(1),
  event_id: z.string().min(1),
  thread_id: z.string().min(1).optional(),
});

export const readMarkersFrame = z.object({
  type: z.literal('read_markers'),
  request_id: requestId,
  room_id: z.string().min(1),
  'm.fully_read': z.string().startsWith('$').optional(),
  'm.read': z.string().startsWith('$').optional(),
  'm.read.private': z.string().startsWith('$').optional(),
});

export const presenceFrame = z.object({
  type: z.literal('presence'),
  request_id: requestId,
  presence: presenceState,
  status_msg: z.string().max(1024).nullable().optional(),
});

/** The client has processed everything up to this `next_batch`: its to-device messages may be deleted. */
export const ackFrame = z.object({
  type: z.literal('ack'),
  request_id: requestId,
  next_batch: z.string().min(1),
});

export const pingFrame = z.object({
  type: z.literal('ping'),
  request_id: requestId.optional(),
});

export type SendFrame = z.infer<typeof sendFrame>;
export type TypingFrame = z.infer<typeof typingFrame>;
export type ReceiptFrame = z.infer<typeof receiptFrame>;
export type ReadMarkersFrame = z.infer<typeof readMarkersFrame>;
export type PresenceFrame = z.infer<typeof presenceFrame>;

/** Request frames by type; `auth` and `ping` are handled by the connection itself. */
export const requestSchemas = {
  send: sendFrame,
  typing: typingFrame,
  receipt: receiptFrame,
  read_markers: readMarkersFrame,
  presence: presenceFrame,
  ack: ackFrame,
} as const;
export type RequestType = keyof typeof requestSchemas;
export type RequestFrame = z.infer<(typeof requestSchemas)[RequestType]>;

export function isRequestType(t: unknown): t is RequestType {
  return typeof t === 'string' && Object.hasOwn(requestSchemas, t);
}

// ---- server frames ----

/** A sync frame around a response body serialized already (see sync-engine/sync-response.ts). */
export function syncFrameText(body: JsonText): string {
  return `{"type":"sync","body":${body.text}}`;
}

export function resultFrame(requestIdValue: string, body: JsonObject): JsonObject {
  return { type: 'result', request_id: requestIdValue, body };
}

/** The spec's error body, tied to the request it answers (null when there is none to name). */
export function errorFrame(requestIdValue: string | null, body: JsonObject): JsonObject {
  return { ...body, type: 'error', request_id: requestIdValue };
}
