/**
 * What the room endpoints need from federation: joining, knocking on, leaving and inviting into
 * rooms that live on other servers. The client API calls this interface; federation/rooms
 * provides the real implementation, and without it remote rooms are refused.
 */
import { MatrixError } from '../http/errors.js';

export interface RemoteRoomJoiner {
  /** Joins a room this server is not in, through one of `via`. Returns the room ID. */
  joinRemoteRoom(userId: string, roomIdOrAlias: string, via: readonly string[], content: Record<string, unknown>): Promise<string>;
  knockRemoteRoom(userId: string, roomIdOrAlias: string, via: readonly string[], reason: string | undefined): Promise<string>;
  /** Leaves (rejects an invite to, withdraws a knock on) a room this server is not in. Returns the leave event's ID. */
  leaveRemoteRoom(userId: string, roomId: string, reason: string | undefined): Promise<string>;
  /** Has the invitee's server countersign an invite, then sends it into the room. Returns the event ID. */
  inviteRemoteUser(roomId: string, sender: string, target: string, reason: string | undefined): Promise<string>;
}

const notYet = (what: string) =>
  new MatrixError(404, 'M_NOT_FOUND', `${what} needs federation, which this server does not support yet`);

/** Without federation: rooms and users elsewhere are out of reach. */
export const noFederation: RemoteRoomJoiner = {
  async joinRemoteRoom(_u, roomIdOrAlias) {
    throw notYet(`joining ${roomIdOrAlias}`);
  },
  async knockRemoteRoom(_u, roomIdOrAlias) {
    throw notYet(`knocking on ${roomIdOrAlias}`);
  },
  async leaveRemoteRoom(_u, roomId) {
    throw notYet(`leaving ${roomId}`);
  },
  async inviteRemoteUser(_r, _s, target) {
    throw new MatrixError(403, 'M_FORBIDDEN', `inviting ${target} needs federation, which this server does not support yet`);
  },
};
