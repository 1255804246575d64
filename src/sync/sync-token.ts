/**
 * Sync tokens (`next_batch` / `since`): one position per stream, so every stream that /sync (and
 * later WebSocket sync) delivers can be resumed independently. Wire form: `s` followed by the
 * positions in STREAMS order joined by `_`, e.g. `s72_4_0_0_0_0_0`. Clients treat it as opaque.
 *
 * Adding a stream appends it to STREAMS: a token minted before the addition parses with the new
 * position 0 (the new stream is then delivered from its beginning, which is correct, if wasteful).
 *
 * Room pagination tokens (`prev_batch`, /messages `start`/`end`) are a different kind: a point in
 * a room's topological order, `t<depth>_<stream>`. /messages also accepts sync tokens as `from`,
 * as the spec requires, which `parsePaginationToken` tells apart by the prefix.
 */

export const STREAMS = ['events', 'accountData', 'toDevice', 'typing', 'receipts', 'presence', 'deviceLists'] as const;
export type SyncStream = (typeof STREAMS)[number];
export type SyncToken = Readonly<Record<SyncStream, number>>;

/** The position everything starts from (an initial sync). */
export const ZERO_TOKEN: SyncToken = Object.freeze(
  Object.fromEntries(STREAMS.map((s) => [s, 0])) as Record<SyncStream, number>,
);

/** Non-negative decimal integers without leading zeros, small enough to be exact in a double. */
const POSITION = /^(0|[1-9][0-9]{0,14})$/;
/** Stream orderings of backfilled history are negative. */
const SIGNED_POSITION = /^(0|-?[1-9][0-9]{0,14})$/;

export function makeSyncToken(positions: Partial<Record<SyncStream, number>>): SyncToken {
  const out = { ...ZERO_TOKEN };
  for (const s of STREAMS) {
    const v = positions[s];
    if (v !== undefined) out[s] = v;
  }
  return out;
}

/**
 * One event wakes every member of its room, whose syncs then all end at the same token and come
 * back with it: formatting and parsing are memoised (tokens are immutable, and parsed ones frozen).
 */
const formatted = new WeakMap<SyncToken, string>();
const parsed = new Map<string, SyncToken>();
const MAX_PARSED = 256;

export function formatSyncToken(t: SyncToken): string {
  let text = formatted.get(t);
  if (text === undefined) {
    text = `s${STREAMS.map((s) => t[s]).join('_')}`;
    formatted.set(t, text);
  }
  return text;
}

/** Parses a `since` token; undefined if it is not one this server could have issued. */
export function parseSyncToken(text: string): SyncToken | undefined {
  let token = parsed.get(text);
  if (token === undefined) {
    token = parseUncached(text);
    if (token === undefined) return undefined;
    parsed.set(text, token);
    if (parsed.size > MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
  }
  return token;
}

function parseUncached(text: string): SyncToken | undefined {
  if (!text.startsWith('s')) return undefined;
  const parts = text.slice(1).split('_');
  if (parts.length === 0 || parts.length > STREAMS.length) return undefined;
  const out: Record<SyncStream, number> = { ...ZERO_TOKEN };
  for (let i = 0; i < parts.length; i++) {
    if (!POSITION.test(parts[i])) return undefined;
    out[STREAMS[i]] = Number(parts[i]);
  }
  return Object.freeze(out);
}

/** True if `a` is at or past `b` on every stream. */
export function tokenCovers(a: SyncToken, b: SyncToken): boolean {
  // A loop rather than STREAMS.every: this runs for every woken sync, and the callback allocates.
  for (const s of STREAMS) if (a[s] < b[s]) return false;
  return true;
}

/** The streams on which `to` is ahead of `from`. */
export function advancedStreams(from: SyncToken, to: SyncToken): SyncStream[] {
  return STREAMS.filter((s) => to[s] > from[s]);
}

/** Per stream, the later of the two positions. */
export function maxToken(a: SyncToken, b: SyncToken): SyncToken {
  const out = { ...a };
  for (const s of STREAMS) out[s] = Math.max(a[s], b[s]);
  return out;
}

/**
 * A token from the future (positions beyond what this server has issued) would make the client
 * skip data forever once the server catches up; clamp it to `current`.
 */
export function clampToken(t: SyncToken, current: SyncToken): SyncToken {
  if (tokenCovers(current, t)) return t;
  const out = { ...t };
  for (const s of STREAMS) out[s] = Math.min(t[s], current[s]);
  return out;
}

// ---- room pagination tokens ----

/**
 * A point in a room's topological order (depth, then stream ordering), lying just BEFORE the
 * event with that key: events "before" it have a smaller key, events "after" it a key at least as
 * large. So the token before an event E is `{E.depth, E.stream}` and the token after E is
 * `{E.depth, E.stream + 1}`.
 */
export interface TopoPosition {
  depth: number;
  stream: number;
}

export function formatTopoToken(p: TopoPosition): string {
  return `t${p.depth}_${p.stream}`;
}

export type PaginationToken = { kind: 'topo'; position: TopoPosition } | { kind: 'stream'; token: SyncToken };

export function parsePaginationToken(text: string): PaginationToken | undefined {
  if (text.startsWith('t')) {
    const parts = text.slice(1).split('_');
    if (parts.length !== 2 || !POSITION.test(parts[0]) || !SIGNED_POSITION.test(parts[1])) return undefined;
    return { kind: 'topo', position: { depth: Number(parts[0]), stream: Number(parts[1]) } };
  }
  const token = parseSyncToken(text);
  return token && { kind: 'stream', token };
}

export function topoBefore(e: { depth: number; streamOrdering: number }): TopoPosition {
  return { depth: e.depth, stream: e.streamOrdering };
}

export function topoAfter(e: { depth: number; streamOrdering: number }): TopoPosition {
  return { depth: e.depth, stream: e.streamOrdering + 1 };
}

/** Orders positions (and event keys) topologically: negative if `a` comes first. */
export function compareTopo(a: TopoPosition, b: TopoPosition): number {
  return a.depth - b.depth || a.stream - b.stream;
}
