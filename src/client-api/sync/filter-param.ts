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

export async function syncFilterParam(param: string | undefined, userId: string, filters: FilterStore): Promise<Filter> {
  if (param === undefined || param === '') return unwrap(parseFilter(undefined));
  if (param.startsWith('{')) return unwrap(parseFilter(inlineJson(param)));
  const stored = await filters.getFilter(userId, param);
  if (!stored) throw invalidParam(`No filter with ID ${param}`);
  return unwrap(parseFilter(stored));
}

export function roomEventFilterParam(param: string | undefined): RoomEventFilter {
  if (param === undefined || param === '') return unwrap(parseRoomEventFilter(undefined));
  return unwrap(parseRoomEventFilter(inlineJson(param)));
}
