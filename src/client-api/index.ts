/** Every client-server API route. Add new endpoints here (one file each under src/client-api/<area>/). */
import type { Route } from '../http/route.js';
import { capabilities } from './server/capabilities.js';
import { versions } from './server/versions.js';
import { wellKnownClient } from './server/well-known.js';

export const clientApiRoutes: readonly Route[] = [versions, wellKnownClient, capabilities];
