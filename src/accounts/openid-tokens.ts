/**
 * OpenID tokens: a user proves their Matrix ID to a third party (Element Call's SFU authoriser, a
 * widget) by handing it a token, which the third party exchanges for the user ID at this server's
 * federation `openid/userinfo`. The tokens are good for nothing else and are stored hashed.
 */
import { randomBytes } from 'node:crypto';
import type { OpenIdTokenStore } from '../storage/storage.js';
import { hashToken } from './tokens.js';

export interface OpenIdTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  matrix_server_name: string;
  /** Seconds. */
  expires_in: number;
}

export async function issueOpenIdToken(
  store: OpenIdTokenStore,
  opts: { userId: string; serverName: string; now: number; lifetimeMs: number },
): Promise<OpenIdTokenResponse> {
  // Expired tokens are dropped as new ones are made, so the table stays the size of the live ones.
  await store.deleteExpired(opts.now);
  const token = `cmo_${randomBytes(32).toString('base64url')}`;
  await store.create(hashToken(token), opts.userId, opts.now + opts.lifetimeMs);
  return {
    access_token: token,
    token_type: 'Bearer',
    matrix_server_name: opts.serverName,
    expires_in: Math.floor(opts.lifetimeMs / 1000),
  };
}

/** The user a token was issued to, or undefined for an unknown or expired token. */
export async function openIdTokenOwner(store: OpenIdTokenStore, token: string, now: number): Promise<string | undefined> {
  if (token === '' || token.length > 512) return undefined;
  return store.userFor(hashToken(token), now);
}
