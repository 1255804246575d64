/**
 * What the room side of federation works with: this server's identity, storage, the rooms
 * service (its pipeline and event creator), the key ring for remote signatures, and an
 * outbound request function shaped like fedcore's FederationClient.
 */
import type { JsonValue } from '../../src/core/json.js';
import type { Pdu } from '../../src/core/pdu.js';
import { redactPdu } from '../../src/core/redaction.js';
import { type SigningKey, signJson } from '../../src/core/signing.js';
import { MatrixError } from '../../src/http/errors.js';
import type { Logger } from '../../src/logger.js';
import type { Notifier } from '../../src/notifier.js';
import type { KeyRing } from '../../src/room-engine/key-ring.js';
import type { Rooms } from '../../src/room-engine/rooms.js';
import type { RoomVersion } from '../../src/rooms/versions.js';
import type { Storage } from '../../src/storage/storage.js';

export type FederationMethod = 'GET' | 'PUT' | 'POST';

export interface FederationRequestOptions {
  query?: Record<string, string | string[]>;
  body?: JsonValue;
  timeoutMs?: number;
}

/** Outbound, X-Matrix-signed requests to another server (fedcore's FederationClient satisfies it). */
export interface FederationRequester {
  request<T>(destination: string, method: FederationMethod, path: string, opts?: FederationRequestOptions): Promise<T>;
}

export interface RoomFederationDeps {
  serverName: string;
  signingKey: SigningKey;
  storage: Storage;
  rooms: Rooms;
  keyRing: KeyRing;
  notifier: Notifier;
  logger: Logger;
  now: () => number;
}

/** Adds this server's signature to an event someone else built (invites, restricted joins). */
export function countersign(pdu: Pdu, version: RoomVersion, serverName: string, key: SigningKey): Pdu {
  return { ...pdu, signatures: signJson(redactPdu(pdu, version), serverName, key).signatures };
}

export const badEvent = (msg: string) => new MatrixError(400, 'M_BAD_JSON', msg);

export const incompatibleVersion = (version: string) =>
  new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `this server does not support room version ${version}`, {
    room_version: version,
  });

/** A path segment for an ID that may hold reserved characters (`$`, `:`, `/` in v3 event IDs). */
export function seg(id: string): string {
  return encodeURIComponent(id);
}
