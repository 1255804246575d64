/** `GET /_matrix/federation/v1/version` and `GET /.well-known/matrix/server` (unauthenticated). */
import { notFound } from '../../src/http/errors.js';
import { defineRoute } from '../../src/http/route.js';

export const SERVER_SOFTWARE = { name: 'Comet', version: '0.1.0' };

export const federationVersion = defineRoute({
  method: 'GET',
  path: '/_matrix/federation/v1/version',
  auth: 'none',
  handler: async () => ({ body: { server: { ...SERVER_SOFTWARE } } }),
});

/** Delegation to `federation.well_known_server`; 404 when not configured (federation at <server_name>:8448). */
export const wellKnownServer = defineRoute({
  method: 'GET',
  path: '/.well-known/matrix/server',
  auth: 'none',
  handler: async ({ app }) => {
    const delegated = app.config.federation.well_known_server;
    if (delegated === null) throw notFound('No server delegation configured');
    return { body: { 'm.server': delegated }, headers: { 'Cache-Control': 'max-age=86400' } };
  },
});
