import { defineRoute } from '../../http/route.js';
import { jsonArray } from './common.js';

export const getRoomState = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/state',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await app.rooms.requireRoom(params.roomId);
    const state = await app.roomReads.readableState(params.roomId, requester.userId);
    const events = await app.roomReads.formatMany(state.values(), requester);
    return { body: jsonArray(events) };
  },
});
