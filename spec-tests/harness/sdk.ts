/**
 * matrix-js-sdk as a test client against a real Comet process: registration through the SDK's own
 * UIA call, a started client with the SDK's own sync loop, and deadline-bounded waits on SDK events.
 * Nothing here sleeps for a fixed time: every wait is "until this condition holds, or fail at the
 * deadline", re-checked whenever the SDK emits one of the named events.
 */
import {
  ClientEvent,
  createClient,
  type ICreateClientOpts,
  type IStartClientOpts,
  type MatrixClient,
  type MatrixEvent,
  type Room,
  RoomEvent,
  RoomMemberEvent,
  RoomStateEvent,
  SyncState,
} from 'matrix-js-sdk';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import type { TestServer } from './server.js';

// The SDK logs every sync at info level; only its warnings are useful when a test fails.
(logger as unknown as { setLevel(level: string): void }).setLevel('warn');

// A bound on failure, not a wait: generous, because a loaded 2-core machine can stretch a sync round trip.
const DEFAULT_DEADLINE_MS = 30_000;
export const PASSWORD = 'correct horse battery staple';

export interface SdkUser {
  client: MatrixClient;
  userId: string;
  accessToken: string;
  deviceId: string;
}

type Emitter = {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
};

/**
 * Resolves once `check()` returns something other than undefined/false, re-evaluating it every time
 * `emitter` fires one of `events`. Rejects with `what` at the deadline.
 */
export function waitUntil<T>(
  emitter: Emitter | MatrixClient,
  events: string[],
  check: () => T | undefined | false,
  what: string,
  deadlineMs = DEFAULT_DEADLINE_MS,
): Promise<T> {
  // MatrixClient's typed on/off overloads do not unify with plain listeners; the events are checked by name.
  const em = emitter as Emitter;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const e of events) em.off(e, listener);
      fn();
    };
    const listener = () => {
      let value: T | undefined | false;
      try {
        value = check();
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (value !== undefined && value !== false) finish(() => resolve(value as T));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${deadlineMs} ms waiting for ${what}`))), deadlineMs);
    for (const e of events) em.on(e, listener);
    listener();
  });
}

/** A client with no credentials (for registration and login). */
export function anonymousClient(server: TestServer, baseUrl = server.baseUrl): MatrixClient {
  return createClient({ baseUrl, logger });
}

/** Registers `localpart` with the SDK's registerRequest and the dummy UIA stage. */
export async function sdkRegister(server: TestServer, localpart: string, opts: Partial<ICreateClientOpts> = {}): Promise<SdkUser> {
  const anon = anonymousClient(server);
  const res = await anon.registerRequest({ username: localpart, password: PASSWORD, auth: { type: 'm.login.dummy' } });
  anon.stopClient();
  if (!res.access_token || !res.device_id) throw new Error(`registration returned no token: ${JSON.stringify(res)}`);
  const client = createClient({
    baseUrl: server.baseUrl,
    userId: res.user_id,
    accessToken: res.access_token,
    deviceId: res.device_id,
    logger,
    ...opts,
  });
  return { client, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id };
}

/** A second device for an existing user, logged in with the SDK's loginWithPassword. */
export async function sdkLogin(server: TestServer, userId: string, password = PASSWORD): Promise<SdkUser> {
  const anon = anonymousClient(server);
  const res = await anon.loginWithPassword(userId, password);
  anon.stopClient();
  const client = createClient({ baseUrl: server.baseUrl, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id, logger });
  return { client, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id };
}

/** Starts the SDK's sync loop and waits for its first successful sync (state PREPARED). */
export async function startSyncing(client: MatrixClient, opts: IStartClientOpts = {}): Promise<void> {
  const prepared = waitUntil(
    client,
    [ClientEvent.Sync],
    () => {
      const state = client.getSyncState();
      if (state === SyncState.Error) throw new Error(`SDK sync failed: ${String(client.getSyncStateData()?.error)}`);
      return state === SyncState.Prepared || state === SyncState.Syncing;
    },
    'the first sync',
  );
  await client.startClient({ initialSyncLimit: 20, ...opts });
  await prepared;
}

/** Waits until the client knows `roomId` and `check(room)` holds, re-checking on every sync and timeline event. */
export function waitForRoom<T>(
  client: MatrixClient,
  roomId: string,
  check: (room: Room) => T | undefined | false,
  what: string,
  deadlineMs = DEFAULT_DEADLINE_MS,
): Promise<T> {
  return waitUntil(
    client,
    [
      ClientEvent.Sync,
      ClientEvent.Room,
      RoomEvent.Timeline,
      RoomEvent.Name,
      RoomEvent.MyMembership,
      RoomEvent.Redaction,
      RoomMemberEvent.Membership,
      RoomStateEvent.Events,
    ],
    () => {
      const room = client.getRoom(roomId);
      return room ? check(room) : undefined;
    },
    what,
    deadlineMs,
  );
}

/** Message bodies of the live timeline, oldest first. */
export function liveBodies(room: Room): string[] {
  return room
    .getLiveTimeline()
    .getEvents()
    .filter((e: MatrixEvent) => e.getType() === 'm.room.message' && !e.isRedacted())
    .map((e: MatrixEvent) => String(e.getContent().body));
}

/** Stops every client given (ignoring ones already stopped). */
export function stopAll(...users: (SdkUser | undefined)[]): void {
  for (const u of users) u?.client.stopClient();
}
