import type { JsonObject } from '../../core/json.js';
import { defineRoute } from '../../http/route.js';
import { checkUserId, requireSelf } from '../params.js';
import { filterSchema } from './filter-schema.js';

export const createFilter = defineRoute({
  method: 'POST',
  path: '/_matrix/client/v3/user/{userId}/filter',
  auth: 'required',
  body: filterSchema,
  handler: async ({ app, requester, params, body }) => {
    requireSelf(requester, checkUserId(params.userId), 'filters');
    const filterId = await app.storage.filters.createFilter(requester.userId, body as JsonObject);
    return { body: { filter_id: filterId } };
  },
});
