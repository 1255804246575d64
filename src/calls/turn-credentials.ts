/**
 * TURN credentials in the "TURN REST API" shared-secret scheme (draft-uberti-behave-turn-rest), the
 * one coturn checks with `use-auth-secret` + `static-auth-secret`: the username is
 * `<expiry unix seconds>:<user id>` and the password is base64(HMAC-SHA1(secret, username)). coturn
 * recomputes the HMAC and refuses the allocation once the expiry has passed, so nothing is shared
 * between Comet and the TURN server except the secret.
 */
import { createHmac } from 'node:crypto';

export interface TurnSettings {
  uris: string[];
  shared_secret: string | null;
  username: string | null;
  password: string | null;
  user_lifetime_ms: number;
}

export interface TurnCredentials {
  username: string;
  password: string;
  uris: string[];
  /** Seconds the credentials stay valid. */
  ttl: number;
}

/** The password coturn expects for `username` under `secret`. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/** Credentials for `userId` at `nowMs`, or undefined when no TURN server is configured. */
export function turnCredentials(settings: TurnSettings, userId: string, nowMs: number): TurnCredentials | undefined {
  if (settings.uris.length === 0) return undefined;
  const ttl = Math.floor(settings.user_lifetime_ms / 1000);
  if (settings.shared_secret !== null) {
    const username = `${Math.floor(nowMs / 1000) + ttl}:${userId}`;
    return { username, password: turnPassword(settings.shared_secret, username), uris: [...settings.uris], ttl };
  }
  if (settings.username !== null && settings.password !== null) {
    return { username: settings.username, password: settings.password, uris: [...settings.uris], ttl };
  }
  return undefined;
}
