/** Auth rule 4 of room versions 1–5: `m.room.aliases`, which any server may set for its own domain. */
import { domainOf, type RoomEvent } from '../pdu.js';
import { ALLOW, type AuthResult, deny } from './types.js';

export function checkAliasesEvent(event: RoomEvent): AuthResult {
  if (event.stateKey === undefined) return deny('aliases: m.room.aliases event has no state_key');
  if (event.stateKey !== domainOf(event.sender)) {
    return deny(`aliases: state_key ${JSON.stringify(event.stateKey)} does not match the sender's domain`);
  }
  return ALLOW;
}
