/** Inbound server ACL checks against a room's current `m.room.server_acl`. */
import { serverAclAllows } from '../../src/rooms/server-acl.js';
import type { EventStore } from '../../src/storage/event-store.js';

export class ServerAcls {
  constructor(private readonly events: Pick<EventStore, 'getCurrentStateEvent'>) {}

  /** Whether `server` may take part in `roomId` (rooms without an ACL, and unknown rooms, allow everyone). */
  async allows(server: string, roomId: string): Promise<boolean> {
    const acl = await this.events.getCurrentStateEvent(roomId, 'm.room.server_acl', '');
    return serverAclAllows(acl?.event.content, server);
  }
}
