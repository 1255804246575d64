/**
 * The one hand-wired object graph of a running server, built once at start. Request handlers get it as
 * `req.app`; services and stores receive only the parts they need.
 */
import { type Clock, systemClock } from './clock.js';
import type { Config, RateLimitAction } from './config/config.js';
import { Hooks } from './hooks.js';
import { RateLimiter } from './http/rate-limit.js';
import type { SigningKey } from './keys/signing-stand-in.js';
import type { Logger } from './logger.js';
import { InProcessNotifier, type Notifier } from './notifier.js';
import type { Storage } from './storage/storage.js';

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
}

export interface AppContextParts {
  config: Config;
  logger: Logger;
  storage: Storage;
  signingKey: SigningKey;
  clock?: Clock;
}

export function createAppContext(parts: AppContextParts): AppContext {
  const clock = parts.clock ?? systemClock;
  return {
    config: parts.config,
    serverName: parts.config.server_name,
    logger: parts.logger,
    storage: parts.storage,
    clock,
    notifier: new InProcessNotifier(),
    rateLimiter: new RateLimiter(parts.config.rate_limits, clock),
    hooks: new Hooks(),
    signingKey: parts.signingKey,
  };
}
