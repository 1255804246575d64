/**
 * `GET /_matrix/federation/v1/query/{queryType}`: every query endpoint. `profile` and `directory`
 * (the spec's two) answer from their own modules; any other type is an endpoint this server does
 * not have (404 M_UNRECOGNIZED).
 */
import { z } from 'zod';
import { unrecognized } from '../../src/http/errors.js';
import { parseOrThrow } from '../../src/http/validation.js';
import { defineFederationRoute } from '../http/federation-route.js';
import { answerDirectoryQuery, directoryQuery } from './query-directory.js';
import { answerProfileQuery, profileQuery } from './query-profile.js';

export const queryByType = defineFederationRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/query/{queryType}',
  query: z.record(z.string(), z.unknown()),
  handler: async ({ app, params, query }) => {
    switch (params.queryType) {
      case 'profile':
        return { body: await answerProfileQuery(app, parseOrThrow(profileQuery, query, 'query')) };
      case 'directory':
        return { body: await answerDirectoryQuery(app, parseOrThrow(directoryQuery, query, 'query')) };
      default:
        throw unrecognized(404, `Unknown query type ${params.queryType}`);
    }
  },
});
