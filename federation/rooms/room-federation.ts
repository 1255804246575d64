/** The room side of federation as one object on the app context: served reads, the remote joiner, backfill. */
import { HistoryBackfiller } from './backfill-remote.js';
import type { FederationRequester, RoomFederationDeps } from './room-federation-deps.js';
import { RemoteRooms } from './remote-membership.js';
import { ServedReads } from './served-reads.js';

export class RoomFederation {
  readonly reads: ServedReads;
  readonly remote: RemoteRooms;
  readonly backfiller: HistoryBackfiller;

  constructor(
    readonly deps: RoomFederationDeps,
    client: FederationRequester,
  ) {
    this.reads = new ServedReads(deps);
    this.remote = new RemoteRooms(deps, client);
    this.backfiller = new HistoryBackfiller(deps, client);
    deps.rooms.attachRemote(this.remote);
  }
}
