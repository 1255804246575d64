/** Profile field rules shared by the profile endpoints (client-server API, "Profiles"). */
import type { AppContext } from '../../app-context.js';
import type { JsonValue } from '../../core/json.js';
import { domainOf } from '../../core/pdu.js';
import { isUserId } from '../../accounts/user-ids.js';
import { badJson, forbidden, invalidParam, MatrixError, notFound } from '../../http/errors.js';
import type { Profile } from '../../storage/storage.js';

const KEY_NAME = /^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;
const MAX_PROFILE_BYTES = 64 * 1024;
const MAX_DISPLAYNAME_CHARS = 256;
const MAX_AVATAR_URL_CHARS = 1000;

export function checkKeyName(keyName: string): void {
  if (Buffer.byteLength(keyName) > 255) throw new MatrixError(400, 'M_KEY_TOO_LARGE', 'Profile key is too long');
  if (!KEY_NAME.test(keyName)) throw invalidParam('Invalid profile key.');
}

export function checkFieldValue(keyName: string, value: JsonValue): void {
  if (keyName === 'displayname') {
    if (typeof value !== 'string') throw badJson('displayname must be a string');
    if ([...value].length > MAX_DISPLAYNAME_CHARS) throw badJson('displayname is too long');
  } else if (keyName === 'avatar_url') {
    // "" is accepted: clients have long used it to remove the avatar.
    if (typeof value !== 'string' || (value !== '' && !/^mxc:\/\/[^/]+\/[^/]+$/.test(value))) {
      throw badJson('avatar_url must be an mxc:// URI');
    }
    if (value.length > MAX_AVATAR_URL_CHARS) throw badJson('avatar_url is too long');
  } else if (keyName === 'm.tz' && typeof value !== 'string') {
    throw badJson('m.tz must be a string');
  }
}

export function checkProfileSize(profile: Profile): void {
  if (Buffer.byteLength(JSON.stringify(profile)) > MAX_PROFILE_BYTES) {
    throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', 'The profile would exceed 64 KiB');
  }
}

/** The profile of a local user (404 when there is none). */
export async function lookupLocalProfile(app: AppContext, userId: string): Promise<Profile> {
  if (!isUserId(userId)) throw invalidParam('Invalid user ID');
  if (domainOf(userId) !== app.serverName) throw notFound('Profile not found');
  const profile = await app.storage.accounts.getProfile(userId);
  if (!profile) throw notFound('Profile not found');
  return profile;
}

/**
 * The profile of any user. A user of another server is asked of their server over federation
 * (only `field` when the client wants one field); its "not found" and refusals are passed on, and
 * a server that cannot be reached is a 502 (504 when it did not answer in time), never a 500.
 */
export async function lookupProfile(app: AppContext, userId: string, field?: string): Promise<Profile> {
  if (!isUserId(userId)) throw invalidParam('Invalid user ID');
  if (domainOf(userId) === app.serverName) return lookupLocalProfile(app, userId);
  const result = await app.federation.profiles.lookup(userId, field);
  if (result.ok) return result.profile;
  switch (result.reason) {
    case 'not_found':
      throw notFound('Profile not found');
    case 'forbidden':
      throw forbidden(`${domainOf(userId)} does not disclose this profile`);
    case 'timeout':
      throw new MatrixError(504, 'M_UNKNOWN', `${domainOf(userId)} did not answer in time`);
    case 'unreachable':
      throw new MatrixError(502, 'M_UNKNOWN', `Could not get the profile from ${domainOf(userId)}`);
  }
}
