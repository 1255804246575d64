/**
 * Fetching events this server does not have (state and auth chains at a gap in the graph) from
 * one server with `/event/{id}`, and storing them as outliers through the pipeline's outlier
 * path (format, signatures, content hash, auth against their own auth events).
 */
import { validatePdu } from '../../src/core/event-format.js';
import type { JsonObject } from '../../src/core/json.js';
import type { Logger } from '../../src/logger.js';
import type { EventPipeline } from '../../src/room-engine/event-pipeline.js';
import type { RoomVersion } from '../../src/rooms/versions.js';
import type { EventStore } from '../../src/storage/event-store.js';

export interface EventFetcher {
  request<T>(destination: string, method: 'GET', path: string, opts?: { query?: Record<string, string>; body?: JsonObject }): Promise<T>;
}

export interface OutlierFetchDeps {
  events: Pick<EventStore, 'getEvents'>;
  pipeline: Pick<EventPipeline, 'acceptOutlier'>;
  client: EventFetcher;
  logger: Logger;
}

const FETCH_CONCURRENCY = 8;

/** Fetches the events of `eventIds` not known yet from `origin` and stores them as outliers, auth events first. */
export async function fetchOutliers(d: OutlierFetchDeps, origin: string, eventIds: readonly string[], version: RoomVersion): Promise<void> {
  const have = await d.events.getEvents(eventIds);
  const todo = [...new Set(eventIds.filter((id) => !have.has(id)))];
  const fetched: Array<{ raw: unknown; depth: number }> = [];
  for (let i = 0; i < todo.length; i += FETCH_CONCURRENCY) {
    const batch = await Promise.all(
      todo.slice(i, i + FETCH_CONCURRENCY).map(async (id) => {
        try {
          const r = await d.client.request<{ pdus?: unknown }>(origin, 'GET', `/_matrix/federation/v1/event/${encodeURIComponent(id)}`);
          return Array.isArray(r.pdus) ? r.pdus[0] : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    for (const raw of batch) {
      const v = raw === undefined ? undefined : validatePdu(raw, version);
      if (v?.ok) fetched.push({ raw, depth: v.value.depth });
    }
  }
  // Auth events have smaller depths than what they authorise, so depth order stores them first.
  fetched.sort((a, b) => a.depth - b.depth);
  for (const f of fetched) {
    const r = await d.pipeline.acceptOutlier(f.raw, version);
    if (r.status === 'invalid' || r.status === 'rejected') d.logger.warn({ origin, reason: r.reason }, 'fetched event refused');
  }
}
