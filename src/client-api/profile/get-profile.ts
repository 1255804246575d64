import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkKeyName, lookupProfile } from './profile-rules.js';

export const getProfile = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/profile/{userId}',
  auth: 'optional',
  handler: async ({ app, params }) => ({ body: await lookupProfile(app, params.userId) }),
});

export const getProfileField = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/profile/{userId}/{keyName}',
  auth: 'optional',
  handler: async ({ app, params }) => {
    checkKeyName(params.keyName);
    const profile = await lookupProfile(app, params.userId, params.keyName);
    const value = profile[params.keyName];
    if (value === undefined) throw notFound('Profile field not set');
    return { body: { [params.keyName]: value } };
  },
});
