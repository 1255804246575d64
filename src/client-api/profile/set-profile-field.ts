import type { AppContext } from '../../app-context.js';
import type { JsonValue } from '../../core/json.js';
import { badJson, forbidden, missingParam } from '../../http/errors.js';
import { defineRoute, type Requester } from '../../http/route.js';
import { jsonObject } from '../../http/validation.js';
import { checkFieldValue, checkKeyName, checkProfileSize, lookupLocalProfile } from './profile-rules.js';

/**
 * Stores the change, then runs the profileChanged hook, where the rooms module propagates
 * displayname/avatar_url into the user's m.room.member events.
 */
async function updateField(
  app: AppContext,
  requester: Requester,
  userId: string,
  keyName: string,
  value: JsonValue | undefined,
) {
  checkKeyName(keyName);
  const current = await lookupLocalProfile(app, userId);
  if (userId !== requester.userId) throw forbidden("Cannot change another user's profile");
  const next = { ...current };
  // avatar_url "" is the long-standing way to remove the avatar.
  if (value === undefined || (keyName === 'avatar_url' && value === '')) delete next[keyName];
  else next[keyName] = value;
  checkProfileSize(next);
  const stored = await app.storage.accounts.setProfileField(userId, keyName, next[keyName]);
  if (stored) await app.hooks.profileChanged.emit(userId, stored, keyName);
  return { body: {} };
}

export const setProfileField = defineRoute({
  method: 'PUT',
  path: '/_matrix/client/v3/profile/{userId}/{keyName}',
  auth: 'required',
  body: jsonObject,
  handler: async ({ app, requester, params, body }) => {
    checkKeyName(params.keyName);
    if (!(params.keyName in body)) throw missingParam(`Missing key '${params.keyName}'`);
    if (Object.keys(body).length !== 1) throw badJson(`The body must hold only '${params.keyName}'`);
    const value = body[params.keyName];
    checkFieldValue(params.keyName, value);
    return updateField(app, requester, params.userId, params.keyName, value);
  },
});

export const deleteProfileField = defineRoute({
  method: 'DELETE',
  path: '/_matrix/client/v3/profile/{userId}/{keyName}',
  auth: 'required',
  handler: async ({ app, requester, params }) =>
    updateField(app, requester, params.userId, params.keyName, undefined),
});
