/** Global and per-room account data (GET/PUT). Writes wake /sync through the notifier. */
import { MatrixError, notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';
import { checkRoomId, checkUserId, requireSelf } from '../params.js';

/** Types the server maintains itself through dedicated APIs (read markers, push rules). */
const SERVER_CONTROLLED = new Set(['m.fully_read', 'm.push_rules']);

function checkWritable(type: string): void {
  if (SERVER_CONTROLLED.has(type)) {
    throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API.`);
  }
}

export const putAccountData = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/user/{userId}/account_data/{type}',
  auth: 'required',
  body: jsonObject,
  handler: async ({ app, requester, params, body }) => {
    requireSelf(requester, checkUserId(params.userId), 'account data');
    checkWritable(params.type);
    await app.storage.accountData.put(requester.userId, null, params.type, body);
    app.notifier.notify('account_data', [requester.userId]);
    return { body: {} };
  },
});

export const getAccountData = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/user/{userId}/account_data/{type}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    requireSelf(requester, checkUserId(params.userId), 'account data');
    const content = await app.storage.accountData.get(requester.userId, null, params.type);
    if (!content) throw notFound('Account data not found.');
    return { body: content };
  },
});

/** Room account data is stored whether or not the room is known here (room checks come with rooms). */
export const putRoomAccountData = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}',
  auth: 'required',
  body: jsonObject,
  handler: async ({ app, requester, params, body }) => {
    requireSelf(requester, checkUserId(params.userId), 'account data');
    checkRoomId(params.roomId);
    checkWritable(params.type);
    await app.storage.accountData.put(requester.userId, params.roomId, params.type, body);
    app.notifier.notify('account_data', [requester.userId]);
    return { body: {} };
  },
});

export const getRoomAccountData = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    requireSelf(requester, checkUserId(params.userId), 'account data');
    checkRoomId(params.roomId);
    const content = await app.storage.accountData.get(requester.userId, params.roomId, params.type);
    if (!content) throw notFound('Room account data not found.');
    return { body: content };
  },
});
