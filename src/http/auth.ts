/** Access-token authentication for client API requests. */
import { hashToken } from '../accounts/tokens.js';
import type { AppContext } from '../app-context.js';
import { missingToken, unknownToken } from './errors.js';
import type { AuthMode, Requester } from './route.js';

/** How stale a device's last-seen time may get before a request refreshes it (avoids a write per request). */
const LAST_SEEN_GRANULARITY_MS = 60_000;

/** Raw tokens remembered with their hash; beyond that the oldest are forgotten. */
const HASH_MEMO_SIZE = 10_000;
const hashMemo = new Map<string, string>();

/**
 * The stored hash of an access token, remembered: every request of a client presents the same token,
 * and a SHA-256 through node:crypto costs more than the rest of the lookup. This is a pure function
 * of the token, so it never needs invalidating; whether the hash is still a valid token is always
 * asked of the device store (which drops its own cache on logout, device deletion and the like).
 */
function accessTokenHash(token: string): string {
  let hash = hashMemo.get(token);
  if (hash === undefined) {
    hash = hashToken(token);
    if (hashMemo.size >= HASH_MEMO_SIZE) hashMemo.delete(hashMemo.keys().next().value as string);
    hashMemo.set(token, hash);
  }
  return hash;
}

/** What authentication reads of a request. */
export interface AuthRequest {
  get(header: string): string;
  readonly query: Record<string, string | string[] | undefined>;
  readonly ip: string;
}

/** The token from `Authorization: Bearer …`, else from the `access_token` query parameter. */
export function extractAccessToken(ctx: AuthRequest): string | undefined {
  const header = ctx.get('authorization');
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : undefined;
  }
  const q = ctx.query.access_token;
  return typeof q === 'string' && q !== '' ? q : undefined;
}

export async function authenticate(app: AppContext, ctx: AuthRequest, mode: AuthMode): Promise<Requester | undefined> {
  if (mode === 'none') return undefined;
  const token = extractAccessToken(ctx);
  if (token === undefined) {
    // A malformed Authorization header is a token we do not recognise, not a missing one.
    if (ctx.get('authorization')) throw unknownToken(false, 'Malformed Authorization header');
    if (mode === 'required') throw missingToken();
    return undefined;
  }
  const info = await app.storage.devices.getAccessToken(accessTokenHash(token));
  if (!info) throw unknownToken(false);
  const now = app.clock.now();
  if (info.expiresTs !== null && info.expiresTs <= now) throw unknownToken(true, 'Access token has expired');
  if (info.supersedesRefreshTokenId !== null) await app.storage.devices.consumeSupersededRefreshToken(info.tokenId);
  if (info.deviceLastSeenTs === null || now - info.deviceLastSeenTs >= LAST_SEEN_GRANULARITY_MS) {
    await app.storage.devices.touchDevice(info.userId, info.deviceId, ctx.ip || null, now);
  }
  return { userId: info.userId, deviceId: info.deviceId, isGuest: info.isGuest, tokenId: info.tokenId };
}
