import type { JsonObject } from '../../core/json.js';
import { forbidden } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';

export const getJoinedMembers = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/rooms/{roomId}/joined_members',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    await app.rooms.requireRoom(params.roomId);
    const me = await app.storage.events.getMembership(params.roomId, requester.userId);
    if (me?.membership !== 'join') throw forbidden(`You are not joined to ${params.roomId}`);
    const members = await app.storage.events.getRoomMembers(params.roomId, ['join']);
    const events = await app.storage.events.getEvents(members.map((m) => m.eventId));
    const joined: JsonObject = {};
    for (const m of members) {
      const content = events.get(m.eventId)?.event.content ?? {};
      const entry: JsonObject = {};
      if (typeof content.displayname === 'string') entry.display_name = content.displayname;
      if (typeof content.avatar_url === 'string') entry.avatar_url = content.avatar_url;
      joined[m.userId] = entry;
    }
    return { body: { joined } };
  },
});
