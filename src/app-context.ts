/**
 * The one hand-wired object graph of a running server, built once at start. Request handlers get it as
 * `req.app`; services and stores receive only the parts they need.
 */
import { attachRoomEdus } from '../federation/edu/room-edus.js';
import { attachUserEdus } from '../federation/edu/user-edus.js';
import { Federation } from '../federation/federation.js';
import { FederationMediaSource } from '../federation/media/federation-media-source.js';
import { RoomFederation } from '../federation/rooms/room-federation.js';
import { type Clock, systemClock } from './clock.js';
import type { Config, RateLimitAction } from './config/config.js';
import { DeviceListService } from './ephemeral/device-lists.js';
import { PresenceService } from './ephemeral/presence.js';
import { ReceiptsService } from './ephemeral/receipts.js';
import { joinedRoomIds, sharingRoomWith } from './ephemeral/shared-rooms.js';
import { ToDeviceService } from './ephemeral/to-device.js';
import { TypingService } from './ephemeral/typing.js';
import { Hooks } from './hooks.js';
import { RateLimiter } from './http/rate-limit.js';
import { domainOf } from './core/pdu.js';
import type { SigningKey } from './core/signing.js';
import type { Logger } from './logger.js';
import { MediaRepository } from './media/media-repository.js';
import type { RemoteMediaSource } from './media/remote-media.js';
import { IpPolicy } from './media/url-preview/ip-policy.js';
import { UrlPreviewer } from './media/url-preview/url-previewer.js';
import { InProcessNotifier, type Notifier } from './notifier.js';
import { RoomReads } from './room-engine/room-reads.js';
import { Rooms } from './room-engine/rooms.js';
import type { Storage } from './storage/storage.js';
import { SyncEngine } from './sync-engine/sync-engine.js';

/** Receipts wake readers in batches too: in a busy room every member acknowledges every message. */
const RECEIPTS_WAKE_COALESCE_MS = 50;
/** Typing changes wake readers in batches (TypingService's wakeCoalesceMs): a typing storm costs a few wakes per member per second. */
const TYPING_WAKE_COALESCE_MS = 50;
/** Presence changes wake readers in batches (PresenceDeps.wakeCoalesceMs): 1,000 members coming online is then a few wakes per member, not 1,000. */
const PRESENCE_WAKE_COALESCE_MS = 50;

export interface AppContext {
  readonly config: Config;
  readonly serverName: string;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly notifier: Notifier;
  readonly rateLimiter: RateLimiter<RateLimitAction>;
  readonly hooks: Hooks;
  readonly signingKey: SigningKey;
  /** Room operations (every event goes through its pipeline). */
  readonly rooms: Rooms;
  /** Visibility-checked reads of room events and state. */
  readonly roomReads: RoomReads;
  /** /sync and the history reads (/messages, /context) built on roomReads. */
  readonly sync: SyncEngine;
  /** The media repository (uploads, downloads, thumbnails). */
  readonly media: MediaRepository;
  /** URL previews (media.url_preview). */
  readonly urlPreviews: UrlPreviewer;
  /** Federation: outbound client, server keys (the pipeline's key ring), ACLs. */
  readonly federation: Federation;
  /** Rooms across servers: membership handshakes, remote joins, reads served to other servers. */
  readonly roomFederation: RoomFederation;
  /** Typing notifications (in memory). */
  readonly typing: TypingService;
  /** Read receipts. */
  readonly receipts: ReceiptsService;
  /** Presence aggregated over devices; transports report connections to it. */
  readonly presence: PresenceService;
  /** Send-to-device messages. */
  readonly toDevice: ToDeviceService;
  /** Device-list change tracking (device_lists in /sync). */
  readonly deviceLists: DeviceListService;
  /** Stops timers (typing expiry, presence); called at shutdown. */
  close(): void;
}

export interface AppContextParts {
  config: Config;
  logger: Logger;
  storage: Storage;
  signingKey: SigningKey;
  clock?: Clock;
  /** Where media on other servers comes from; over federation by default. */
  remoteMedia?: RemoteMediaSource;
}

export function createAppContext(parts: AppContextParts): AppContext {
  const clock = parts.clock ?? systemClock;
  const notifier = new InProcessNotifier();
  const hooks = new Hooks();
  const federation = new Federation({
    config: parts.config,
    signingKey: parts.signingKey,
    storage: parts.storage,
    logger: parts.logger,
    now: () => clock.now(),
  });
  const rooms = new Rooms({
    keyRing: federation.keyRing,
    storage: parts.storage,
    serverName: parts.config.server_name,
    signingKey: parts.signingKey,
    now: () => clock.now(),
    notifier,
    logger: parts.logger,
  });
  rooms.attachHooks(hooks);
  const roomFederation = new RoomFederation(
    {
      serverName: parts.config.server_name,
      signingKey: parts.signingKey,
      storage: parts.storage,
      rooms,
      keyRing: federation.keyRing,
      notifier,
      logger: parts.logger,
      now: () => clock.now(),
    },
    federation.client,
  );
  federation.attachPipeline(rooms.pipeline);
  const roomReads = new RoomReads(parts.storage.events, () => clock.now());
  const media = new MediaRepository({
    config: parts.config,
    store: parts.storage.media,
    logger: parts.logger,
    now: () => clock.now(),
    remote:
      parts.remoteMedia ??
      new FederationMediaSource({
        client: federation.client,
        // A `Location` an origin sends is fetched under the same address rules as URL previews.
        locationPolicy: new IpPolicy(parts.config.media.url_preview.ip_range_denylist, parts.config.media.url_preview.ip_range_allowlist),
        logger: parts.logger,
      }),
  });
  const now = () => clock.now();
  const listenerError = (err: unknown) => parts.logger.error({ err }, 'real-time listener failed');
  const membership = async (roomId: string, userId: string) => (await parts.storage.events.getMembership(roomId, userId))?.membership;
  const typing = new TypingService(notifier, now, membership, listenerError, TYPING_WAKE_COALESCE_MS);
  const receipts = new ReceiptsService(parts.storage, notifier, now, listenerError, RECEIPTS_WAKE_COALESCE_MS);
  attachRoomEdus({ federation, typing, receipts, events: parts.storage.events, logger: parts.logger });
  const events = parts.storage.events;
  const presence = new PresenceService({
    store: parts.storage.presence,
    notifier,
    now,
    config: { idleAfterMs: parts.config.presence.idle_after_ms, offlineGraceMs: parts.config.presence.offline_grace_ms },
    joinedRooms: (userId) => joinedRoomIds(events, userId),
    visibleTo: (viewer, others) => sharingRoomWith(events, viewer, others),
    onListenerError: listenerError,
    wakeCoalesceMs: PRESENCE_WAKE_COALESCE_MS,
  });
  const toDevice = new ToDeviceService(parts.storage, notifier, now, parts.config.server_name, listenerError);
  const deviceLists = new DeviceListService(parts.storage, notifier, parts.config.server_name, listenerError);
  const userEdus = attachUserEdus({ federation, pipeline: rooms.pipeline, storage: parts.storage, hooks, presence, toDevice, deviceLists, logger: parts.logger, now });
  hooks.devicesDeleted.on(async (userId, deviceIds) => {
    await toDevice.devicesDeleted(userId, deviceIds);
    await deviceLists.markChanged(userId, deviceIds, { deleted: true });
  });
  // Sending into a room is activity on whichever of the sender's devices are connected.
  rooms.pipeline.onPersisted(({ event }) => {
    if (domainOf(event.sender) === parts.config.server_name) presence.active(event.sender).catch(listenerError);
  });
  return {
    config: parts.config,
    serverName: parts.config.server_name,
    logger: parts.logger,
    storage: parts.storage,
    clock,
    notifier,
    rateLimiter: new RateLimiter(parts.config.rate_limits, clock),
    hooks,
    signingKey: parts.signingKey,
    rooms,
    roomReads,
    media,
    urlPreviews: new UrlPreviewer(parts.config, media, () => clock.now()),
    federation,
    roomFederation,
    sync: new SyncEngine(parts.storage, roomReads, notifier, now, { typing, receipts, presence, toDevice, deviceLists }),
    typing,
    receipts,
    presence,
    toDevice,
    deviceLists,
    close() {
      typing.close();
      receipts.close();
      presence.close();
      userEdus.close();
    },
  };
}
