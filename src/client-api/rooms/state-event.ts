/** GET and PUT of one state entry, with and without a state key in the path. */
import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import { stateKeyOf } from '../../core/pdu.js';
import type { AppContext } from '../../app-context.js';
import { notFound } from '../../http/errors.js';
import { defineRoute, type Requester } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';

const PATH = '/_matrix/client/v3/rooms/{roomId}/state/{eventType}';
const query = z.object({ format: z.enum(['content', 'event']).optional() }).loose();

async function getState(
  app: AppContext,
  requester: Requester,
  roomId: string,
  type: string,
  stateKey: string,
  format: 'content' | 'event' | undefined,
) {
  await app.rooms.requireRoom(roomId);
  const state = await app.roomReads.readableState(roomId, requester.userId);
  const id = state.get(stateKeyOf(type, stateKey));
  const stored = id === undefined ? undefined : await app.storage.events.getEvent(id);
  if (!stored) throw notFound(`No ${type} state with key '${stateKey}' in ${roomId}`);
  const ev = await app.roomReads.format(stored, requester);
  return { body: format === 'event' ? (ev as unknown as JsonObject) : ev.content };
}

async function putState(app: AppContext, requester: Requester, roomId: string, type: string, stateKey: string, content: JsonObject) {
  const eventId = await app.rooms.setState(roomId, requester.userId, type, stateKey, content);
  return { body: { event_id: eventId } };
}

export const getStateEvent = defineRoute({
  method: 'GET',
  path: `${PATH}/{stateKey}`,
  auth: 'required',
  query,
  handler: ({ app, requester, params, query }) =>
    getState(app, requester, params.roomId, params.eventType, params.stateKey, query.format),
});

export const getStateEventEmptyKey = defineRoute({
  method: 'GET',
  path: PATH,
  auth: 'required',
  query,
  handler: ({ app, requester, params, query }) => getState(app, requester, params.roomId, params.eventType, '', query.format),
});

export const putStateEvent = defineRoute({
  method: 'PUT',
  path: `${PATH}/{stateKey}`,
  auth: 'required',
  rateLimit: 'send',
  body: jsonObject,
  handler: ({ app, requester, params, body }) =>
    putState(app, requester, params.roomId, params.eventType, params.stateKey, body),
});

export const putStateEventEmptyKey = defineRoute({
  method: 'PUT',
  path: PATH,
  auth: 'required',
  rateLimit: 'send',
  body: jsonObject,
  handler: ({ app, requester, params, body }) => putState(app, requester, params.roomId, params.eventType, '', body),
});
