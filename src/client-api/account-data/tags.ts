/** Room tags: stored as the room's `m.tag` account data, so /sync delivers them like any account data. */
import { z } from 'zod';
import { isJsonObject, type JsonObject } from '../../core/json.js';
import { badJson } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkRoomId, checkUserId, requireSelf } from '../params.js';

const TAGS = '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags';

export const getTags = defineRoute({
  method: 'GET',
  path: TAGS,
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    requireSelf(requester, checkUserId(params.userId), 'tags');
    checkRoomId(params.roomId);
    const content = await app.storage.accountData.get(requester.userId, params.roomId, 'm.tag');
    return { body: { tags: content && isJsonObject(content.tags) ? content.tags : {} } };
  },
});

export const putTag = defineRoute({
  method: 'PUT',
  path: `${TAGS}/{tag}`,
  auth: 'required',
  body: z.looseObject({ order: z.number().optional() }),
  handler: async ({ app, requester, params, body }) => {
    requireSelf(requester, checkUserId(params.userId), 'tags');
    checkRoomId(params.roomId);
    if (params.tag === '' || Buffer.byteLength(params.tag) > 255) throw badJson('Tag names are 1 to 255 bytes');
    await app.storage.accountData.setTag(requester.userId, params.roomId, params.tag, body as JsonObject);
    app.notifier.notify('account_data', [requester.userId]);
    return { body: {} };
  },
});

export const deleteTag = defineRoute({
  method: 'DELETE',
  path: `${TAGS}/{tag}`,
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    requireSelf(requester, checkUserId(params.userId), 'tags');
    checkRoomId(params.roomId);
    await app.storage.accountData.setTag(requester.userId, params.roomId, params.tag, undefined);
    app.notifier.notify('account_data', [requester.userId]);
    return { body: {} };
  },
});
