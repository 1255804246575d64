/** Every client-server API route. Add new endpoints here (one file each under src/client-api/<area>/). */
import type { Route } from '../http/route.js';
import { register } from './account/register.js';
import { registerAvailable } from './account/register-available.js';
import { registrationTokenValidity } from './account/registration-token-validity.js';
import { whoami } from './account/whoami.js';
import { getLoginFlows, login } from './auth/login.js';
import { logout, logoutAll } from './auth/logout.js';
import { refresh } from './auth/refresh.js';
import { capabilities } from './server/capabilities.js';
import { versions } from './server/versions.js';
import { wellKnownClient } from './server/well-known.js';

export const clientApiRoutes: readonly Route[] = [
  // server
  versions,
  wellKnownClient,
  capabilities,
  // registration and login
  register,
  registerAvailable,
  registrationTokenValidity,
  getLoginFlows,
  login,
  logout,
  logoutAll,
  refresh,
  whoami,
];
