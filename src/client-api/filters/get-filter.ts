import { notFound } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { checkUserId, requireSelf } from '../params.js';

export const getFilter = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/user/{userId}/filter/{filterId}',
  auth: 'required',
  handler: async ({ app, requester, params }) => {
    requireSelf(requester, checkUserId(params.userId), 'filters');
    const filter = await app.storage.filters.getFilter(requester.userId, params.filterId);
    if (!filter) throw notFound('No such filter');
    return { body: filter };
  },
});
