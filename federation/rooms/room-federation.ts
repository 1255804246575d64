/** The room side of federation as one object on the app context: served reads and the remote joiner. */
import type { FederationRequester, RoomFederationDeps } from './room-federation-deps.js';
import { RemoteRooms } from './remote-membership.js';
import { ServedReads } from './served-reads.js';

export class RoomFederation {
  readonly reads: ServedReads;
  readonly remote: RemoteRooms;

  constructor(
    readonly deps: RoomFederationDeps,
    client: FederationRequester,
  ) {
    this.reads = new ServedReads(deps);
    this.remote = new RemoteRooms(deps, client);
    deps.rooms.attachRemote(this.remote);
  }
}
