/**
 * Presence across servers (`m.presence` EDUs).
 *
 * Outbound: every change of a local user's presence goes to the servers sharing a room with them,
 * coalesced per user in the queue (a newer state replaces an unsent older one). Because an EDU can
 * be lost with a server that goes away, users who are not offline are announced again every
 * `refreshMs`, and a server that newly shares a room with a local user gets that user's presence.
 *
 * Inbound: an entry is applied only for a user of the origin who is joined to some room here
 * (otherwise no local user can be interested); it becomes remote state in the presence service,
 * which delivers it to local users sharing a room. `last_active_ago` is turned back into a time.
 * Remote presence that is not offline expires: with no word from the user's server for
 * `remoteTimeoutMs` (longer than the refresh interval, so one lost refresh is not enough) the user
 * is shown offline, so users of a server that vanished do not stay online forever.
 */
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import { DeadlineQueue } from '../../src/ephemeral/deadline-queue.js';
import type { PresenceService, PresenceState, PresenceView } from '../../src/ephemeral/presence.js';
import { type EduPorts, ignoredEdu } from './edu-ports.js';

export interface PresenceEduOptions {
  /** How often the presence of local users who are not offline is sent again. */
  refreshMs?: number;
  /** How long a remote user's presence holds without an update before they count as offline. */
  remoteTimeoutMs?: number;
}

/** Same idea as the usual 25 / 30 minutes: a refresh always lands before the remote side gives up. */
const DEFAULT_REFRESH_MS = 25 * 60_000;
const DEFAULT_REMOTE_TIMEOUT_MS = 30 * 60_000;
/** A last-active time that moved less than this is not worth waking clients for. */
const LAST_ACTIVE_GRANULARITY_MS = 60_000;

const STATES: readonly PresenceState[] = ['online', 'unavailable', 'offline'];

export interface PresenceEdus {
  /** A user joined a room: bring the newcomer's server and the room's servers up to date (never rejects). */
  memberJoined(roomId: string, userId: string): Promise<void>;
  /** Expires remote presence that is due now (the timer calls this; tests with a fake clock may too). */
  expireDue(): void;
  close(): void;
}

export function attachPresenceEdus(ports: EduPorts, presence: PresenceService, opts: PresenceEduOptions = {}): PresenceEdus {
  const refreshMs = opts.refreshMs ?? DEFAULT_REFRESH_MS;
  const remoteTimeoutMs = opts.remoteTimeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
  /** Local users who are not offline, with their latest view (what the refresh re-sends). */
  const present = new Map<string, PresenceView>();
  const fail = (err: unknown) => ports.logger.error({ err }, 'could not queue a presence EDU');

  const send = (destinations: Iterable<string>, userId: string, view: PresenceView) =>
    ports.sendEdu(destinations, 'm.presence', { push: [pushEntry(userId, view, ports.now())] }, `m.presence\u0000${userId}`);
  const announce = async (userId: string, view: PresenceView) => send(await ports.serversSharingRoomWith(userId), userId, view);

  presence.localChanges.on(({ userId, view }) => {
    if (view.presence === 'offline') present.delete(userId);
    else present.set(userId, view);
    announce(userId, view).catch(fail);
  });

  const refresh = setInterval(() => {
    // Read again: the last-active time moves without a change being published.
    for (const userId of present.keys()) presence.getPresence(userId).then((view) => announce(userId, view)).catch(fail);
  }, refreshMs);
  refresh.unref();

  const expiry = new DeadlineQueue<string>(ports.now, (userId) => {
    void presence.getPresence(userId).then((view) => {
      if (view.presence === 'offline') return;
      ports.logger.info({ userId }, 'remote presence timed out; now offline');
      presence.applyRemote(userId, { ...view, presence: 'offline', currentlyActive: false });
    }, fail);
  });

  ports.registerEduHandler('m.presence', async (origin, content) => {
    if (!Array.isArray(content.push)) return;
    for (const entry of content.push) {
      if (!isJsonObject(entry)) continue;
      const parsed = parseEntry(entry, ports.now());
      if (!parsed) {
        ignoredEdu(ports, origin, 'm.presence', 'malformed presence entry');
        continue;
      }
      const { userId, view } = parsed;
      if (domainOf(userId) !== origin) {
        ignoredEdu(ports, origin, 'm.presence', `${userId} does not belong to ${origin}`, { userId });
        continue;
      }
      if (!(await ports.isJoinedAnywhere(userId))) {
        ignoredEdu(ports, origin, 'm.presence', `${userId} shares no room with this server`, { userId });
        continue;
      }
      if (view.presence === 'offline') expiry.cancel(userId);
      else expiry.schedule(userId, ports.now() + remoteTimeoutMs);
      // A refresh that changes nothing clients display must not wake every sync sharing a room.
      const known = await presence.getPresence(userId);
      const same =
        known.presence === view.presence &&
        known.statusMsg === view.statusMsg &&
        known.currentlyActive === view.currentlyActive &&
        Math.abs(known.lastActiveTs - view.lastActiveTs) < LAST_ACTIVE_GRANULARITY_MS;
      if (!same) presence.applyRemote(userId, view);
    }
  });

  return {
    memberJoined(roomId, userId) {
      const server = domainOf(userId);
      return (async () => {
        if (server === ports.serverName) {
          const view = present.get(userId);
          if (view) await send(await ports.serversInRoom(roomId), userId, view);
          return;
        }
        // A remote user joined: their server may be new to the room, and so to our users there.
        for (const member of await ports.joinedMembers(roomId)) {
          const view = member !== userId ? present.get(member) : undefined;
          if (view) await send([server], member, view);
        }
      })().catch(fail);
    },
    expireDue: () => expiry.runDue(),
    close() {
      clearInterval(refresh);
      expiry.close();
    },
  };
}

/** The `push` entry for a user's view at `now`. */
function pushEntry(userId: string, view: PresenceView, now: number): JsonObject {
  const entry: JsonObject = {
    user_id: userId,
    presence: view.presence,
    currently_active: view.currentlyActive,
    // Required by the spec; a user never seen active is as old as can be said.
    last_active_ago: view.lastActiveTs > 0 ? Math.max(0, now - view.lastActiveTs) : now,
  };
  if (view.statusMsg !== null) entry.status_msg = view.statusMsg;
  return entry;
}

function parseEntry(e: JsonObject, now: number): { userId: string; view: PresenceView } | undefined {
  const { user_id: userId, presence, last_active_ago: ago, currently_active: active, status_msg: msg } = e;
  if (typeof userId !== 'string' || typeof presence !== 'string' || !STATES.includes(presence as PresenceState)) return undefined;
  const lastActiveTs = typeof ago === 'number' && Number.isFinite(ago) && ago >= 0 && ago < now ? now - ago : 0;
  return {
    userId,
    view: {
      presence: presence as PresenceState,
      statusMsg: typeof msg === 'string' ? msg : null,
      currentlyActive: active === true,
      lastActiveTs,
    },
  };
}
