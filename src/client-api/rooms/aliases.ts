import { historyVisibilityOf } from '../../rooms/visibility.js';
import { forbidden } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

export const getLocalAliases = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/aliases',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await app.rooms.requireRoom(params.roomId);
    const me = await app.storage.events.getMembership(params.roomId, requester.userId);
    if (me?.membership !== 'join') {
      const hv = await app.storage.events.getCurrentStateEvent(params.roomId, 'm.room.history_visibility', '');
      if (historyVisibilityOf(hv?.event.content) !== 'world_readable') throw forbidden(`You are not in ${params.roomId}`);
    }
    return { body: { aliases: await app.storage.roomDirectory.getAliasesForRoom(params.roomId) } };
  },
});
