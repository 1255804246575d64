/**
 * Fetching events this server does not have (state and auth chains at a gap in the graph, the
 * auth events of a received PDU) from one server with `/event/{id}` or `/event_auth`, and storing
 * them as outliers through the pipeline's outlier path (format, signatures, content hash, auth
 * against their own auth events).
 */
import { toRoomEvent, validatePdu } from '../../src/core/event-format.js';
import type { JsonObject } from '../../src/core/json.js';
import type { RoomEvent } from '../../src/core/pdu.js';
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
/** Most events fetched one by one when walking a missing auth chain without `/event_auth`. */
const MAX_AUTH_WALK = 200;

const enc = encodeURIComponent;

/** One event from `origin` (`/event/{id}`), in the room version's format; undefined when it cannot be had. */
async function fetchEvent(d: OutlierFetchDeps, origin: string, id: string, version: RoomVersion): Promise<{ raw: unknown; event: RoomEvent } | undefined> {
  try {
    const r = await d.client.request<{ pdus?: unknown }>(origin, 'GET', `/_matrix/federation/v1/event/${enc(id)}`);
    const raw = Array.isArray(r.pdus) ? r.pdus[0] : undefined;
    const v = raw === undefined ? undefined : validatePdu(raw, version);
    return v?.ok ? { raw, event: toRoomEvent(v.value, version) } : undefined;
  } catch {
    return undefined;
  }
}

/** Fetches the events of `eventIds` not known yet from `origin` and stores them as outliers, auth events first. */
export async function fetchOutliers(d: OutlierFetchDeps, origin: string, eventIds: readonly string[], version: RoomVersion): Promise<void> {
  const have = await d.events.getEvents(eventIds);
  const todo = [...new Set(eventIds.filter((id) => !have.has(id)))];
  const fetched: Array<{ raw: unknown; depth: number }> = [];
  for (let i = 0; i < todo.length; i += FETCH_CONCURRENCY) {
    const batch = await Promise.all(
      todo.slice(i, i + FETCH_CONCURRENCY).map(async (id) => {
        try {
          const r = await d.client.request<{ pdus?: unknown }>(origin, 'GET', `/_matrix/federation/v1/event/${enc(id)}`);
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

/** The events `event` is authorised by, including the create event a v12 room ID names. */
function authDependencies(event: RoomEvent, version: RoomVersion): string[] {
  const ids = [...event.authEventIds];
  if (version.roomIdFromCreateEvent && event.type !== 'm.room.create') ids.push(`$${event.roomId.slice(1)}`);
  return ids;
}

/**
 * For a PDU whose prev events are known but some of whose auth events are not: fetches those from
 * `origin` and stores them as outliers, so the PDU can then be checked as usual. The event's auth
 * chain comes from `/event_auth`; a server that does not answer it is asked for the missing events
 * one by one with `/event`, following their auth events in turn. Only events whose own auth events
 * are then all at hand are stored, each after its auth events, so every one is checked against
 * them; the rest are left out and the PDU is refused for its unknown auth events as before.
 * `alsoKnown`: events about to be stored with the PDU (earlier PDUs of the same transaction).
 */
export async function fetchMissingAuthEvents(
  d: OutlierFetchDeps,
  origin: string,
  event: RoomEvent,
  version: RoomVersion,
  alsoKnown: ReadonlySet<string> = new Set(),
): Promise<void> {
  const wanted = authDependencies(event, version).filter((id) => !alsoKnown.has(id));
  const stored = await d.events.getEvents(wanted);
  const missing = wanted.filter((id) => !stored.has(id));
  if (missing.length === 0) return;
  d.logger.info({ origin, eventId: event.eventId, missing }, 'fetching the missing auth events of a PDU');

  const fetched = new Map<string, { raw: unknown; event: RoomEvent }>();
  const keep = (raw: unknown) => {
    const v = validatePdu(raw, version);
    if (!v.ok) return;
    const ev = toRoomEvent(v.value, version);
    if (ev.roomId === event.roomId && ev.eventId !== event.eventId) fetched.set(ev.eventId, { raw, event: ev });
  };
  try {
    const r = await d.client.request<{ auth_chain?: unknown }>(origin, 'GET', `/_matrix/federation/v1/event_auth/${enc(event.roomId)}/${enc(event.eventId)}`);
    if (Array.isArray(r.auth_chain)) for (const raw of r.auth_chain) keep(raw);
  } catch (err) {
    d.logger.info({ origin, eventId: event.eventId, err: (err as Error).message }, 'event_auth failed; fetching the auth events one by one');
  }

  // Whatever the chain left out (or all of it, without /event_auth) is walked with /event.
  const known = new Set([...stored.keys(), ...alsoKnown]);
  const asked = new Set<string>();
  let frontier = missing.filter((id) => !fetched.has(id));
  while (frontier.length > 0 && asked.size < MAX_AUTH_WALK) {
    const batch = frontier.slice(0, FETCH_CONCURRENCY);
    for (const id of batch) asked.add(id);
    for (const f of await Promise.all(batch.map((id) => fetchEvent(d, origin, id, version)))) {
      if (f && f.event.roomId === event.roomId) fetched.set(f.event.eventId, f);
    }
    const next = new Set(frontier.slice(FETCH_CONCURRENCY));
    for (const f of fetched.values()) {
      for (const id of authDependencies(f.event, version)) if (!fetched.has(id) && !known.has(id) && !asked.has(id)) next.add(id);
    }
    if (next.size > 0) {
      // Events cited by what was fetched may be stored already.
      const have = await d.events.getEvents([...next]);
      for (const id of have.keys()) {
        known.add(id);
        next.delete(id);
      }
    }
    frontier = [...next];
  }

  for (const f of authOrder(fetched, known, version)) {
    const r = await d.pipeline.acceptOutlier(f.raw, version);
    if (r.status === 'invalid' || r.status === 'rejected') d.logger.warn({ origin, eventId: f.event.eventId, reason: r.reason }, 'fetched auth event refused');
  }
}

/**
 * The fetched events whose auth events are all known or fetched, each after its auth events (an
 * event citing itself through its chain, which no valid chain does, is left out).
 */
function authOrder(
  fetched: ReadonlyMap<string, { raw: unknown; event: RoomEvent }>,
  known: ReadonlySet<string>,
  version: RoomVersion,
): Array<{ raw: unknown; event: RoomEvent }> {
  const out: Array<{ raw: unknown; event: RoomEvent }> = [];
  const state = new Map<string, 'visiting' | 'ok' | 'unusable'>();
  const visit = (id: string): boolean => {
    if (known.has(id)) return true;
    const s = state.get(id);
    if (s !== undefined) return s === 'ok';
    const f = fetched.get(id);
    if (!f) return false;
    state.set(id, 'visiting');
    let ok = true;
    for (const dep of authDependencies(f.event, version)) if (!visit(dep)) ok = false;
    state.set(id, ok ? 'ok' : 'unusable');
    if (ok) out.push(f);
    return ok;
  };
  for (const id of [...fetched.keys()].sort((a, b) => fetched.get(a)!.event.depth - fetched.get(b)!.event.depth)) visit(id);
  return out;
}
