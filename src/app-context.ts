/**
 * The one hand-wired object graph of a running server, built once at start. Request handlers get it as
 * `req.app`; services and stores receive only the parts they need.
 */
import { Federation } from '../federation/federation.js';
import { RoomFederation } from '../federation/rooms/room-federation.js';
import { type Clock, systemClock } from './clock.js';
import type { Config, RateLimitAction } from './config/config.js';
import { Hooks } from './hooks.js';
import { RateLimiter } from './http/rate-limit.js';
import type { SigningKey } from './core/signing.js';
import type { Logger } from './logger.js';
import { MediaRepository } from './media/media-repository.js';
import type { RemoteMediaSource } from './media/remote-media.js';
import { UrlPreviewer } from './media/url-preview/url-previewer.js';
import { InProcessNotifier, type Notifier } from './notifier.js';
import { RoomReads } from './room-engine/room-reads.js';
import { Rooms } from './room-engine/rooms.js';
import type { Storage } from './storage/storage.js';
import { SyncEngine } from './sync-engine/sync-engine.js';

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
}

export interface AppContextParts {
  config: Config;
  logger: Logger;
  storage: Storage;
  signingKey: SigningKey;
  clock?: Clock;
  /** Where media on other servers comes from (federation, later); none by default. */
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
    remote: parts.remoteMedia,
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
    sync: new SyncEngine(parts.storage, roomReads, notifier, () => clock.now()),
    media,
    urlPreviews: new UrlPreviewer(parts.config, media, () => clock.now()),
    federation,
    roomFederation,
  };
}
