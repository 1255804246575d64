/**
 * Typing notifications and read receipts across servers (`m.typing`, `m.receipt` EDUs). Local
 * changes from the real-time services go to the other servers in the room through the sender
 * (coalesced: a newer typing state or receipt of the same user replaces an unsent older one);
 * EDUs from other servers are applied when the origin speaks for its own user, the room's server
 * ACL admits it, and that user is joined to the room here.
 */
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import type { ReceiptsService } from '../../src/ephemeral/receipts.js';
import type { TypingService } from '../../src/ephemeral/typing.js';
import type { Logger } from '../../src/logger.js';
import type { EventStore } from '../../src/storage/event-store.js';
import type { Federation } from '../federation.js';

/** How long a remote user counts as typing: the EDU carries no timeout (the usual 30 s). */
const REMOTE_TYPING_MS = 30_000;

export interface RoomEduDeps {
  federation: Federation;
  typing: TypingService;
  receipts: ReceiptsService;
  events: Pick<EventStore, 'getMembership'>;
  logger: Logger;
}

export function attachRoomEdus(d: RoomEduDeps): void {
  const { federation } = d;
  const toRoom = (roomId: string, eduType: string, content: JsonObject, coalesceKey: string) =>
    federation.sender
      .serversInRoom(roomId)
      .then((servers) => federation.sender.sendEdu(servers, eduType, content, coalesceKey))
      .catch((err) => d.logger.error({ err, roomId, eduType }, 'could not queue an EDU'));

  d.typing.localChanges.on((u) => {
    void toRoom(u.roomId, 'm.typing', { room_id: u.roomId, user_id: u.userId, typing: u.typing }, `m.typing\u0000${u.roomId}\u0000${u.userId}`);
  });
  d.receipts.localChanges.on((u) => {
    const data: JsonObject = { ts: u.ts };
    if (u.threadId !== null) data.thread_id = u.threadId;
    const content: JsonObject = { [u.roomId]: { 'm.read': { [u.userId]: { event_ids: [u.eventId], data } } } };
    void toRoom(u.roomId, 'm.receipt', content, `m.receipt\u0000${u.roomId}\u0000${u.userId}\u0000${u.threadId ?? ''}`);
  });

  /** Whether `origin` may speak for `userId` in `roomId` here. */
  const admissible = async (origin: string, roomId: string, userId: string, eduType: string): Promise<boolean> => {
    let reason: string | undefined;
    if (domainOf(userId) !== origin) reason = `${userId} does not belong to ${origin}`;
    else if (!(await federation.acl.allows(origin, roomId))) reason = `${origin} is denied by the room's server ACL`;
    else if ((await d.events.getMembership(roomId, userId))?.membership !== 'join') reason = `${userId} is not joined to ${roomId}`;
    if (reason !== undefined) d.logger.info({ origin, roomId, eduType, reason }, 'ignored an EDU');
    return reason === undefined;
  };

  federation.registerEduHandler('m.typing', async (origin, content) => {
    const { room_id: roomId, user_id: userId, typing } = content;
    if (typeof roomId !== 'string' || typeof userId !== 'string' || typeof typing !== 'boolean') return;
    if (await admissible(origin, roomId, userId, 'm.typing')) d.typing.applyRemote({ roomId, userId, typing, timeoutMs: REMOTE_TYPING_MS });
  });

  federation.registerEduHandler('m.receipt', async (origin, content) => {
    for (const [roomId, byType] of Object.entries(content)) {
      const read = isJsonObject(byType) ? byType['m.read'] : undefined;
      if (!isJsonObject(read)) continue;
      for (const [userId, receipt] of Object.entries(read)) {
        if (!isJsonObject(receipt) || !Array.isArray(receipt.event_ids) || typeof receipt.event_ids[0] !== 'string') continue;
        const data = isJsonObject(receipt.data) ? receipt.data : {};
        if (!(await admissible(origin, roomId, userId, 'm.receipt'))) continue;
        await d.receipts.applyRemote({
          roomId,
          userId,
          eventId: receipt.event_ids[0],
          ts: typeof data.ts === 'number' ? data.ts : 0,
          threadId: typeof data.thread_id === 'string' ? data.thread_id : null,
        });
      }
    }
  });
}
