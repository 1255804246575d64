/**
 * Key server and notary endpoints (unauthenticated): `GET /_matrix/key/v2/server` (our keys,
 * self-signed) and `GET /_matrix/key/v2/query/{serverName}`, `POST /_matrix/key/v2/query` (other
 * servers' key responses, from the cache or fetched, countersigned by us).
 */
import { z } from 'zod';
import type { AppContext } from '../../src/app-context.js';
import { isJsonObject, type JsonObject } from '../../src/core/json.js';
import { isValidServerName } from '../../src/core/server-name.js';
import { signJson } from '../../src/core/signing.js';
import { invalidParam } from '../../src/http/errors.js';
import { defineRoute } from '../../src/http/route.js';

export const getServerKeys = defineRoute({
  method: 'GET',
  path: '/_matrix/key/v2/server',
  auth: 'none',
  handler: async ({ app }) => ({ body: app.federation.keyRing.ownKeyResponse() }),
});

/** At most this many servers per batch query, so one request cannot fan out without bound. */
const MAX_SERVERS_PER_QUERY = 100;

async function notaryAnswer(app: AppContext, servers: Array<[string, number]>): Promise<JsonObject> {
  const out: JsonObject[] = [];
  const results = await Promise.all(
    servers.map(([server, minimum]) =>
      isValidServerName(server) ? app.federation.keyRing.responsesFor(server, minimum) : Promise.resolve([]),
    ),
  );
  for (const responses of results) {
    for (const r of responses) out.push(signJson(r, app.serverName, app.signingKey) as unknown as JsonObject);
  }
  return { server_keys: out };
}

const minimumTs = z
  .string()
  .regex(/^\d{1,16}$/)
  .transform(Number)
  .optional();

export const queryServerKeys = defineRoute({
  method: 'GET',
  path: '/_matrix/key/v2/query/{serverName}',
  auth: 'none',
  query: z.object({ minimum_valid_until_ts: minimumTs }),
  handler: async ({ app, params, query }) => {
    const server = params.serverName;
    if (!isValidServerName(server)) throw invalidParam(`invalid server name ${server}`);
    return { body: await notaryAnswer(app, [[server, query.minimum_valid_until_ts ?? app.clock.now()]]) };
  },
});

export const batchQueryServerKeys = defineRoute({
  method: 'POST',
  path: '/_matrix/key/v2/query',
  auth: 'none',
  body: z.object({ server_keys: z.record(z.string(), z.record(z.string(), z.unknown())) }),
  handler: async ({ app, body }) => {
    const now = app.clock.now();
    const servers: Array<[string, number]> = [];
    for (const [server, criteria] of Object.entries(body.server_keys).slice(0, MAX_SERVERS_PER_QUERY)) {
      // The strictest minimum asked for any of the server's keys; none given means now.
      let minimum = now;
      for (const c of Object.values(criteria)) {
        const m = isJsonObject(c) ? c.minimum_valid_until_ts : undefined;
        if (typeof m === 'number' && m > minimum) minimum = m;
      }
      servers.push([server, minimum]);
    }
    return { body: await notaryAnswer(app, servers) };
  },
});
