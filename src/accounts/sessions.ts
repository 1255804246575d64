/** Issuing login sessions (device + tokens) for register, login and refresh. */
import type { AppContext } from '../app-context.js';
import type { JsonObject } from '../core/json.js';
import type { NewSession } from '../storage/storage.js';
import { hashToken, newAccessToken, newDeviceId, newRefreshToken } from './tokens.js';

export interface SessionRequest {
  userId: string;
  deviceId?: string;
  initialDisplayName?: string;
  /** The client said it supports refresh tokens (`refresh_token: true`). */
  wantsRefreshToken: boolean;
  ip: string | null;
}

export interface PreparedSession {
  /** What storage records (hashes only). */
  record: NewSession;
  /** The login/register response fields: access_token, device_id, and refresh_token/expires_in_ms. */
  response: JsonObject;
}

export function prepareSession(app: AppContext, req: SessionRequest): PreparedSession {
  const now = app.clock.now();
  const deviceId = req.deviceId ?? newDeviceId();
  const accessToken = newAccessToken();
  const refreshToken = req.wantsRefreshToken ? newRefreshToken() : null;
  const lifetime = app.config.auth.refreshable_access_token_lifetime_ms;
  const response: JsonObject = { user_id: req.userId, access_token: accessToken, device_id: deviceId };
  if (refreshToken !== null) {
    response.refresh_token = refreshToken;
    response.expires_in_ms = lifetime;
  }
  return {
    record: {
      userId: req.userId,
      deviceId,
      initialDisplayName: req.initialDisplayName ?? null,
      accessTokenHash: hashToken(accessToken),
      refreshTokenHash: refreshToken === null ? null : hashToken(refreshToken),
      accessExpiresTs: refreshToken === null ? null : now + lifetime,
      ip: req.ip,
      now,
    },
    response,
  };
}
