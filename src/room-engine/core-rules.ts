/**
 * The protocol-core rules the room engine uses, gathered in one import: the auth rules and
 * auth events selection (src/core/auth) and state resolution (src/core/state-res).
 */
export {
  type AuthResult,
  type AuthStateLookup,
  authEventKeysFor,
  checkAuthEventsList,
  checkEventAuth,
  namedPowerLevel,
  requiredPowerForEvent,
  userPowerLevel,
} from '../core/auth/index.js';
export { type EventLookup, resolveState } from '../core/state-res/index.js';
