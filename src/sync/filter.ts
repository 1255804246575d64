/**
 * The filter model (client-server spec, "Filtering"): parses a filter JSON object into a
 * normalised form with every default filled in, and answers "does this event / room pass".
 * Used by /sync (full Filter), /messages and /context (RoomEventFilter).
 *
 * Unknown keys are ignored (clients send newer or vendor fields); keys with the wrong type are
 * refused with a reason naming the key, so the endpoint can answer 400 instead of guessing.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';

export interface EventFilter {
  /** undefined: the endpoint's default applies. */
  limit: number | undefined;
  types: readonly string[] | undefined;
  notTypes: readonly string[];
  senders: readonly string[] | undefined;
  notSenders: readonly string[];
}

export interface RoomEventFilter extends EventFilter {
  rooms: readonly string[] | undefined;
  notRooms: readonly string[];
  containsUrl: boolean | undefined;
  lazyLoadMembers: boolean;
  includeRedundantMembers: boolean;
  unreadThreadNotifications: boolean;
}

export interface RoomFilter {
  rooms: readonly string[] | undefined;
  notRooms: readonly string[];
  includeLeave: boolean;
  state: RoomEventFilter;
  timeline: RoomEventFilter;
  ephemeral: RoomEventFilter;
  accountData: RoomEventFilter;
}

export interface Filter {
  eventFields: readonly string[] | undefined;
  eventFormat: 'client' | 'federation';
  presence: EventFilter;
  accountData: EventFilter;
  room: RoomFilter;
}

export type FilterResult<T> = { ok: true; filter: T } | { ok: false; reason: string };

class FilterError extends Error {}

function strings(obj: JsonObject, key: string, path: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new FilterError(`${path}${key} must be an array of strings`);
  }
  return v as string[];
}

function bool(obj: JsonObject, key: string, path: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new FilterError(`${path}${key} must be a boolean`);
  return v;
}

function section(obj: JsonObject, key: string, path: string): JsonObject {
  const v = obj[key];
  if (v === undefined) return {};
  if (!isJsonObject(v)) throw new FilterError(`${path}${key} must be an object`);
  return v;
}

function eventFilter(obj: JsonObject, path: string): EventFilter {
  const limit = obj.limit;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new FilterError(`${path}limit must be an integer greater than 0`);
  }
  return {
    limit,
    types: strings(obj, 'types', path),
    notTypes: strings(obj, 'not_types', path) ?? [],
    senders: strings(obj, 'senders', path),
    notSenders: strings(obj, 'not_senders', path) ?? [],
  };
}

function roomEventFilter(obj: JsonObject, path: string): RoomEventFilter {
  return {
    ...eventFilter(obj, path),
    rooms: strings(obj, 'rooms', path),
    notRooms: strings(obj, 'not_rooms', path) ?? [],
    containsUrl: bool(obj, 'contains_url', path),
    lazyLoadMembers: bool(obj, 'lazy_load_members', path) ?? false,
    includeRedundantMembers: bool(obj, 'include_redundant_members', path) ?? false,
    unreadThreadNotifications: bool(obj, 'unread_thread_notifications', path) ?? false,
  };
}

function guard<T>(f: () => T): FilterResult<T> {
  try {
    return { ok: true, filter: f() };
  } catch (e) {
    if (e instanceof FilterError) return { ok: false, reason: e.message };
    throw e;
  }
}

export function parseRoomEventFilter(json: JsonValue | undefined): FilterResult<RoomEventFilter> {
  return guard(() => {
    if (json === undefined) return roomEventFilter({}, '');
    if (!isJsonObject(json)) throw new FilterError('filter must be a JSON object');
    return roomEventFilter(json, '');
  });
}

export function parseFilter(json: JsonValue | undefined): FilterResult<Filter> {
  return guard(() => {
    const root = json === undefined ? {} : json;
    if (!isJsonObject(root)) throw new FilterError('filter must be a JSON object');
    const format = root.event_format ?? 'client';
    if (format !== 'client' && format !== 'federation') throw new FilterError("event_format must be 'client' or 'federation'");
    const room = section(root, 'room', '');
    return {
      eventFields: strings(root, 'event_fields', ''),
      eventFormat: format,
      presence: eventFilter(section(root, 'presence', ''), 'presence.'),
      accountData: eventFilter(section(root, 'account_data', ''), 'account_data.'),
      room: {
        rooms: strings(room, 'rooms', 'room.'),
        notRooms: strings(room, 'not_rooms', 'room.') ?? [],
        includeLeave: bool(room, 'include_leave', 'room.') ?? false,
        state: roomEventFilter(section(room, 'state', 'room.'), 'room.state.'),
        timeline: roomEventFilter(section(room, 'timeline', 'room.'), 'room.timeline.'),
        ephemeral: roomEventFilter(section(room, 'ephemeral', 'room.'), 'room.ephemeral.'),
        accountData: roomEventFilter(section(room, 'account_data', 'room.'), 'room.account_data.'),
      },
    };
  });
}

/** Filter-spec type patterns: `*` matches any run of characters (including none); nothing else is special. */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const parts = pattern.split('*');
  if (!type.startsWith(parts[0])) return false;
  let at = parts[0].length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = type.indexOf(parts[i], at);
    if (found < 0) return false;
    at = found + parts[i].length;
  }
  const last = parts[parts.length - 1];
  return type.length - last.length >= at && type.endsWith(last);
}

/** The fields filters look at; RoomEvent and client-format events both have them under some name. */
export interface FilterableEvent {
  type: string;
  sender: string;
  roomId?: string;
  content?: JsonObject;
}

/** Whether an event passes the type/sender (and, for room filters, room and url) conditions. */
export function eventPasses(filter: EventFilter | RoomEventFilter, ev: FilterableEvent): boolean {
  if (filter.notTypes.some((p) => typeMatches(p, ev.type))) return false;
  if (filter.types !== undefined && !filter.types.some((p) => typeMatches(p, ev.type))) return false;
  if (filter.notSenders.includes(ev.sender)) return false;
  if (filter.senders !== undefined && !filter.senders.includes(ev.sender)) return false;
  if ('notRooms' in filter) {
    if (ev.roomId !== undefined && !roomPasses(filter, ev.roomId)) return false;
    if (filter.containsUrl !== undefined) {
      const hasUrl = typeof ev.content?.url === 'string';
      if (hasUrl !== filter.containsUrl) return false;
    }
  }
  return true;
}

/** Room include/exclude lists (not_rooms wins over rooms). */
export function roomPasses(filter: { rooms: readonly string[] | undefined; notRooms: readonly string[] }, roomId: string): boolean {
  if (filter.notRooms.includes(roomId)) return false;
  return filter.rooms === undefined || filter.rooms.includes(roomId);
}

/** Account data filters match on the data's `type`; there is no sender. */
export function accountDataPasses(filter: EventFilter, type: string): boolean {
  if (filter.notTypes.some((p) => typeMatches(p, type))) return false;
  return filter.types === undefined || filter.types.some((p) => typeMatches(p, type));
}

/** The limit to use: the filter's, or the endpoint's default, never above the endpoint's cap. */
export function effectiveLimit(filter: EventFilter, defaultLimit: number, cap: number): number {
  return Math.min(filter.limit ?? defaultLimit, cap);
}

/**
 * Projects an event onto `event_fields` (dot-separated paths, `\.` escapes a literal dot).
 * The spec lets a server include more than asked; we keep exactly the requested paths.
 */
export function projectFields(ev: JsonObject, fields: readonly string[] | undefined): JsonObject {
  if (fields === undefined) return ev;
  const out: JsonObject = {};
  for (const field of fields) {
    const path = splitFieldPath(field);
    let src: JsonValue | undefined = ev;
    for (const k of path) src = isJsonObject(src) ? src[k] : undefined;
    if (src === undefined) continue;
    let dst = out;
    for (let i = 0; i < path.length - 1; i++) {
      const next = dst[path[i]];
      if (!isJsonObject(next)) dst[path[i]] = {};
      dst = dst[path[i]] as JsonObject;
    }
    dst[path[path.length - 1]] = src;
  }
  return out;
}

function splitFieldPath(field: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '\\' && i + 1 < field.length) {
      cur += field[++i];
    } else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}
