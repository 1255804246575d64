/**
 * Request frames sent over a WebSocket sync connection. Each calls the same service the matching
 * HTTP endpoint calls, with the same rate limit, so the rules cannot drift between transports;
 * errors are the same MatrixErrors, which the connection turns into error frames.
 */
import type { AppContext } from '../app-context.js';
import type { JsonObject } from '../core/json.js';
import { checkRoomId } from '../client-api/params.js';
import { txnOf } from '../client-api/rooms/common.js';
import { setFullyRead } from '../client-api/rooms/read-markers.js';
import { invalidParam, limitExceeded, missingParam } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import { parseOrThrow } from '../http/validation.js';
import {
  type ReadMarkersFrame,
  type ReceiptFrame,
  type RequestFrame,
  type RequestType,
  requestSchemas,
  type SendFrame,
} from './frames.js';

/** Validates a request frame of a known type (M_BAD_JSON / M_MISSING_PARAM as for HTTP bodies). */
export function parseRequest(type: RequestType, frame: unknown): RequestFrame {
  return parseOrThrow(requestSchemas[type], frame, 'body');
}

export async function handleRequest(app: AppContext, requester: Requester, frame: RequestFrame): Promise<JsonObject> {
  switch (frame.type) {
    case 'send':
      return send(app, requester, frame);
    case 'typing':
      await app.typing.setTyping(checkRoomId(frame.room_id), requester.userId, frame.typing, frame.timeout);
      await app.presence.active(requester.userId, requester.deviceId);
      return {};
    case 'receipt':
      await receipt(app, requester, frame);
      await app.presence.active(requester.userId, requester.deviceId);
      return {};
    case 'read_markers':
      await readMarkers(app, requester, frame);
      await app.presence.active(requester.userId, requester.deviceId);
      return {};
    case 'presence':
      await app.presence.setPresence(requester.userId, requester.deviceId, frame.presence, frame.status_msg ?? null);
      return {};
    case 'ack':
      // Handled by the connection, which knows what it has sent.
      return {};
  }
}

async function send(app: AppContext, requester: Requester, frame: SendFrame): Promise<JsonObject> {
  const { userId } = requester;
  if (frame.state_key !== undefined) {
    return { event_id: await app.rooms.setState(frame.room_id, userId, frame.event_type, frame.state_key, frame.content) };
  }
  if (frame.txn_id === undefined) throw missingParam("Missing key 'txn_id' (required unless state_key is given)");
  const wait = app.rateLimiter.take('send', userId);
  if (wait > 0) throw limitExceeded(wait);
  // Scoped exactly as PUT /rooms/{roomId}/send/{eventType}/{txnId}: a send retried over the other
  // transport after a reconnect is recognised as the same request.
  const eventId = await app.rooms.sendMessage(
    frame.room_id,
    userId,
    frame.event_type,
    frame.content,
    txnOf(requester, ['send', frame.room_id, frame.event_type], frame.txn_id),
  );
  return { event_id: eventId };
}

/** As POST /rooms/{roomId}/receipt/{type}/{eventId}: m.read, m.read.private, or m.fully_read (the read marker). */
async function receipt(app: AppContext, requester: Requester, frame: ReceiptFrame): Promise<void> {
  const roomId = checkRoomId(frame.room_id);
  const type = frame.receipt_type;
  if (type !== 'm.read' && type !== 'm.read.private' && type !== 'm.fully_read') throw invalidParam(`Unknown receipt type ${type}`);
  if (type === 'm.fully_read') {
    if (frame.thread_id !== undefined) throw invalidParam('thread_id is not allowed for m.fully_read');
    await setFullyRead(app, requester.userId, roomId, frame.event_id);
  } else {
    await app.receipts.setReceipt(roomId, requester.userId, type, frame.event_id, frame.thread_id ?? null);
  }
}

/** As POST /rooms/{roomId}/read_markers. */
async function readMarkers(app: AppContext, requester: Requester, frame: ReadMarkersFrame): Promise<void> {
  const roomId = checkRoomId(frame.room_id);
  const userId = requester.userId;
  if (frame['m.fully_read'] !== undefined) await setFullyRead(app, userId, roomId, frame['m.fully_read']);
  if (frame['m.read'] !== undefined) await app.receipts.setReceipt(roomId, userId, 'm.read', frame['m.read'], null);
  if (frame['m.read.private'] !== undefined) await app.receipts.setReceipt(roomId, userId, 'm.read.private', frame['m.read.private'], null);
}
