/** Every route of the federation listener. Add new endpoints here (one file each under federation/routes/). */
import type { Route } from '../../src/http/route.js';
import { batchQueryServerKeys, getServerKeys, queryServerKeys } from './keys.js';
import { backfill } from './backfill.js';
import { getEvent } from './event.js';
import { eventAuth } from './event-auth.js';
import { getMissingEvents } from './get-missing-events.js';
import { inviteV2 } from './invite.js';
import { inviteV1 } from './invite-v1.js';
import { makeJoin } from './make-join.js';
import { makeKnock } from './make-knock.js';
import { makeLeave } from './make-leave.js';
import { federationMediaDownload, federationMediaThumbnail } from './media.js';
import { openIdUserInfo } from './openid-userinfo.js';
import { queryByType } from './query.js';
import { sendJoin } from './send-join.js';
import { sendKnock } from './send-knock.js';
import { sendLeave } from './send-leave.js';
import { sendTransaction } from './send.js';
import { federationVersion, wellKnownServer } from './server-info.js';
import { stateRoute } from './state.js';
import { stateIdsRoute } from './state-ids.js';
import { timestampToEvent } from './timestamp-to-event.js';
import { getPublicRoomsFederation, postPublicRoomsFederation } from './public-rooms.js';
import { userDevices } from './user-devices.js';
import { claimUserKeys, queryUserKeys } from './user-keys.js';

export const federationRoutes: readonly Route[] = [
  getServerKeys,
  queryServerKeys,
  batchQueryServerKeys,
  federationVersion,
  wellKnownServer,
  makeJoin,
  sendJoin,
  makeLeave,
  sendLeave,
  makeKnock,
  sendKnock,
  inviteV1,
  inviteV2,
  getEvent,
  stateRoute,
  stateIdsRoute,
  eventAuth,
  backfill,
  getMissingEvents,
  timestampToEvent,
  queryByType,
  getPublicRoomsFederation,
  postPublicRoomsFederation,
  userDevices,
  queryUserKeys,
  claimUserKeys,
  sendTransaction,
  federationMediaDownload,
  federationMediaThumbnail,
  openIdUserInfo,
];

/** Served on the client listener too: delegation is usually looked up on the name's port 443. */
export const clientListenerFederationRoutes: readonly Route[] = [wellKnownServer];
