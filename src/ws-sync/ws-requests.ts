/**
 * Request frames sent over a WebSocket sync connection. Each calls the same service the matching
 * HTTP endpoint calls, with the same rate limit, so the rules cannot drift between transports;
 * errors are the same MatrixErrors, which the connection turns into error frames.
 */
import type { AppContext } from '../app-context.js';
import type { JsonObject } from '../core/json.js';
import { limitExceeded, missingParam, unrecognized } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import { parseOrThrow } from '../http/validation.js';
import { type RequestFrame, type RequestType, requestSchemas, type SendFrame } from './frames.js';

/** Validates a request frame of a known type (M_BAD_JSON / M_MISSING_PARAM as for HTTP bodies). */
export function parseRequest(type: RequestType, frame: unknown): RequestFrame {
  return parseOrThrow(requestSchemas[type], frame, 'body');
}

export async function handleRequest(app: AppContext, requester: Requester, frame: RequestFrame): Promise<JsonObject> {
  switch (frame.type) {
    case 'send':
      return send(app, requester, frame);
    default:
      throw unrecognized(404, `${frame.type} frames are not supported yet`);
  }
}

async function send(app: AppContext, requester: Requester, frame: SendFrame): Promise<JsonObject> {
  const { userId, deviceId } = requester;
  if (frame.state_key !== undefined) {
    return { event_id: await app.rooms.setState(frame.room_id, userId, frame.event_type, frame.state_key, frame.content) };
  }
  if (frame.txn_id === undefined) throw missingParam("Missing key 'txn_id' (required unless state_key is given)");
  const wait = app.rateLimiter.take('send', userId);
  if (wait > 0) throw limitExceeded(wait);
  const eventId = await app.rooms.sendMessage(frame.room_id, userId, frame.event_type, frame.content, {
    userId,
    deviceId,
    txnId: frame.txn_id,
  });
  return { event_id: eventId };
}
