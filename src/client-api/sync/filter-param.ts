/**
 * The `filter` query parameter of /sync (a filter ID, or inline JSON when it starts with `{`)
 * and of /messages and /context (inline RoomEventFilter JSON). Every problem is a 400
 * M_INVALID_PARAM naming what is wrong, as for any other bad query parameter.
 */
import type { JsonValue } from '../../core/json.js';
import { invalidParam } from '../../http/errors.js';
import type { FilterStore } from '../../storage/storage.js';
import { type Filter, type FilterResult, parseFilter, parseRoomEventFilter, type RoomEventFilter } from '../../sync/filter.js';

function inlineJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw invalidParam('filter is not valid JSON');
  }
}

function unwrap<T>(r: FilterResult<T>): T {
  if (!r.ok) throw invalidParam(`Invalid filter: ${r.reason}`);
  return r.filter;
}

/**
 * Parsed filters by parameter (inline JSON, or user and filter ID: stored filters never change).
 * A long-polling client sends the same filter with every request; parsing it each time costs more
 * than the rest of an idle sync. Filters are never modified after parsing, so they can be shared.
 */
const parsed = new Map<string, Filter>();
const MAX_PARSED = 1000;

export async function syncFilterParam(param: string | undefined, userId: string, filters: FilterStore): Promise<Filter> {
  const inline = param === undefined || param === '' || param.startsWith('{');
  const key = inline ? (param ?? '') : `${userId}\u0000${param}`;
  const hit = parsed.get(key);
  if (hit) return hit;
  let filter: Filter;
  if (param === undefined || param === '') filter = unwrap(parseFilter(undefined));
  else if (inline) filter = unwrap(parseFilter(inlineJson(param)));
  else {
    const stored = await filters.getFilter(userId, param);
    if (!stored) throw invalidParam(`No filter with ID ${param}`);
    filter = unwrap(parseFilter(stored));
  }
  parsed.set(key, filter);
  if (parsed.size > MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
  return filter;
}

export function roomEventFilterParam(param: string | undefined): RoomEventFilter {
  if (param === undefined || param === '') return unwrap(parseRoomEventFilter(undefined));
  return unwrap(parseRoomEventFilter(inlineJson(param)));
}
