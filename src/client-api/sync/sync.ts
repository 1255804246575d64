import { z } from 'zod';
import { invalidParam } from '../../http/errors.js';
import { defineRoute } from '../../http/route.js';
import { parseSyncToken } from '../../sync/sync-token.js';
import { syncFilterParam } from './filter-param.js';

/** Long polls are capped so a connection is never held longer than proxies tolerate. */
const MAX_TIMEOUT_MS = 5 * 60_000;

const boolParam = z.enum(['true', 'false']).optional();

export const sync = defineRoute({
  method: 'GET',
  path: '/_matrix/client/v3/sync',
  auth: 'required',
  query: z
    .object({
      filter: z.string().optional(),
      since: z.string().optional(),
      full_state: boolParam,
      set_presence: z.enum(['offline', 'online', 'unavailable']).optional(),
      timeout: z.string().regex(/^[0-9]{1,15}$/, 'expected a non-negative integer').optional(),
      use_state_after: boolParam,
    })
    .loose(),
  handler: async (req) => {
    const { app, requester, query } = req;
    const since = query.since === undefined ? undefined : parseSyncToken(query.since);
    if (query.since !== undefined && since === undefined) throw invalidParam(`Invalid since token ${query.since}`);
    const filter = await syncFilterParam(query.filter, requester.userId, app.storage.filters);
    // The long poll is a connection of this device for presence, unless the client asks to stay offline.
    const connected = query.set_presence !== 'offline';
    const idle = query.set_presence === 'unavailable';
    if (connected) await app.presence.connectionOpened(requester.userId, requester.deviceId, { idle });
    try {
      const timeoutMs = Math.min(Number(query.timeout ?? 0), MAX_TIMEOUT_MS);
      const { response } = await app.sync.syncResult({
        viewer: { userId: requester.userId, deviceId: requester.deviceId },
        since,
        filter,
        fullState: query.full_state === 'true',
        timeoutMs,
        // Only a long poll waits; asking for the signal is what makes it.
        signal: timeoutMs > 0 ? req.signal : undefined,
      });
      return { json: response.json() };
    } finally {
      if (connected) await app.presence.connectionClosed(requester.userId, requester.deviceId, { idle });
    }
  },
});
