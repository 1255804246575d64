/** Every route of the federation listener. Add new endpoints here (one file each under federation/routes/). */
import type { Route } from '../../src/http/route.js';
import { batchQueryServerKeys, getServerKeys, queryServerKeys } from './keys.js';
import { federationVersion, wellKnownServer } from './server-info.js';

export const federationRoutes: readonly Route[] = [
  getServerKeys,
  queryServerKeys,
  batchQueryServerKeys,
  federationVersion,
  wellKnownServer,
];

/** Served on the client listener too: delegation is usually looked up on the name's port 443. */
export const clientListenerFederationRoutes: readonly Route[] = [wellKnownServer];
