/** `query/profile?user_id=&field=` (served by query.ts): a local user's profile. */
import { z } from 'zod';
import type { AppContext } from '../../src/app-context.js';
import type { JsonObject } from '../../src/core/json.js';
import { domainOf } from '../../src/core/pdu.js';
import { notFound } from '../../src/http/errors.js';

export const profileQuery = z.object({ user_id: z.string(), field: z.string().optional() }).loose();

export async function answerProfileQuery(app: AppContext, query: z.infer<typeof profileQuery>): Promise<JsonObject> {
  const profile = domainOf(query.user_id) === app.serverName ? await app.storage.accounts.getProfile(query.user_id) : undefined;
  if (!profile) throw notFound(`Profile of ${query.user_id} not found`);
  if (query.field !== undefined) {
    const v = profile[query.field];
    return (v === undefined ? {} : { [query.field]: v }) as JsonObject;
  }
  return profile as JsonObject;
}
