/** Request pieces the room endpoints share. */
import { z } from 'zod';
import type { JsonObject } from '../../core/json.js';
import type { Requester } from '../../http/route.js';
import type { Txn } from '../../room-engine/event-creator.js';
import { scopedTxnId } from '../../room-engine/txn-scope.js';

export const userIdString = z.string().regex(/^@[^:]+:.+$/, 'expected a user ID');

/** Body of invite, kick, ban and unban. */
export const targetBody = z.object({ user_id: userIdString, reason: z.string().optional() });

/** Body of leave, forget, join and knock: only an optional reason (other keys are ignored). */
export const reasonBody = z.object({ reason: z.string().optional() }).loose();

/** Repeated `via` / `server_name` query parameters arrive as a string or a list. */
export const serverList = z.union([z.string(), z.array(z.string())]).optional();

export function serversOf(...lists: Array<string | string[] | undefined>): string[] {
  return lists.flatMap((l) => (l === undefined ? [] : Array.isArray(l) ? l : [l]));
}

/** Query of join and knock by ID or alias: servers to try, under either name (`server_name` is the older one). */
export const viaQuery = z.object({ via: serverList, server_name: serverList }).loose();

export function viaServers(query: z.infer<typeof viaQuery>): string[] {
  return serversOf(query.via, query.server_name);
}

/** `scope` names the endpoint path without the txnId: a txnId only repeats a request to the same path. */
export function txnOf(requester: Requester, scope: readonly string[], txnId: string): Txn {
  return { userId: requester.userId, deviceId: requester.deviceId, txnId: scopedTxnId(scope, txnId) };
}

/** For arrays: the route layer types bodies as objects, JSON serialisation does not care. */
export function jsonArray(items: unknown[]): JsonObject {
  return items as unknown as JsonObject;
}
