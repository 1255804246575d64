/**
 * What the room endpoints need from federation and cannot do yet: joining, knocking on and
 * inviting into rooms that live on other servers. The client API calls this interface; the
 * federation part of Comet will provide the real implementation.
 */
import { MatrixError } from '../http/errors.js';

export interface RemoteRoomJoiner {
  /** Joins a room this server is not in, through one of `via`. Returns the room ID. */
  joinRemoteRoom(userId: string, roomIdOrAlias: string, via: readonly string[], content: Record<string, unknown>): Promise<string>;
  knockRemoteRoom(userId: string, roomIdOrAlias: string, via: readonly string[], reason: string | undefined): Promise<string>;
  /** Has the invitee's server countersign an invite before it is sent into the room. */
  inviteRemoteUser(roomId: string, sender: string, target: string): Promise<never>;
}

const notYet = (what: string) =>
  new MatrixError(404, 'M_NOT_FOUND', `${what} needs federation, which this server does not support yet`);

/** Until federation exists: rooms and users elsewhere are out of reach. */
export const noFederation: RemoteRoomJoiner = {
  async joinRemoteRoom(_u, roomIdOrAlias) {
    throw notYet(`joining ${roomIdOrAlias}`);
  },
  async knockRemoteRoom(_u, roomIdOrAlias) {
    throw notYet(`knocking on ${roomIdOrAlias}`);
  },
  async inviteRemoteUser(_r, _s, target) {
    throw new MatrixError(403, 'M_FORBIDDEN', `inviting ${target} needs federation, which this server does not support yet`);
  },
};
