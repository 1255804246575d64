/**
 * What the user-level EDU modules (presence, to-device, device lists, signing keys) need from a
 * running server's federation, kept narrow so each can be tested with plain functions.
 */
import type { JsonObject } from '../../src/core/json.js';
import type { Logger } from '../../src/logger.js';
import type { EduHandler } from './edu-registry.js';

export interface EduPorts {
  serverName: string;
  registerEduHandler(eduType: string, handler: EduHandler): void;
  /** Queues an EDU for the destinations (the sender drops ourselves); see FederationSender.sendEdu. */
  sendEdu(destinations: Iterable<string>, eduType: string, content: JsonObject, coalesceKey?: string): Promise<void>;
  /** Other servers with a joined member in a room the user is joined to. */
  serversSharingRoomWith(userId: string): Promise<string[]>;
  /** Servers with a joined member in the room. */
  serversInRoom(roomId: string): Promise<string[]>;
  /** User IDs joined to the room. */
  joinedMembers(roomId: string): Promise<string[]>;
  /** Whether the (remote) user is joined to some room here, so local users may care about them. */
  isJoinedAnywhere(userId: string): Promise<boolean>;
  /** A federation GET to another server (for device-list resyncs). */
  fetch(destination: string, path: string): Promise<JsonObject>;
  logger: Logger;
  now: () => number;
}

/** Logs an inbound EDU (or one entry of it) that is dropped, with the reason, like room EDUs do. */
export function ignoredEdu(ports: EduPorts, origin: string, eduType: string, reason: string, extra: JsonObject = {}): void {
  ports.logger.info({ origin, eduType, reason, ...extra }, 'ignored an EDU');
}
