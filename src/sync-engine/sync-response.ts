/**
 * A /sync response body (WebSocket sync sends the same), kept in parts until it is written. Room
 * sections built on a room's shared delta arrive as JSON text already, joined from pieces that
 * every member woken by the same event shares (see room-deltas.ts); the response is serialized
 * once around them. The object form, for in-process callers, is parsed back from that text, so
 * both forms are always the same JSON.
 */
import type { JsonObject } from '../core/json.js';
import { JsonText } from '../core/json-text.js';
import type { DeviceListDelta } from '../ephemeral/device-lists.js';

export interface SyncParts {
  /** Joined rooms' sections, by room ID. */
  join: ReadonlyMap<string, JsonObject | JsonText>;
  invite: JsonObject;
  knock: JsonObject;
  leave: JsonObject;
  /** Global account data events. */
  accountData: readonly JsonObject[];
  presence: readonly JsonObject[];
  toDevice: readonly JsonObject[];
  deviceLists: DeviceListDelta;
}

/** The parts of a response with nothing in it. */
export const NOTHING: SyncParts = Object.freeze({
  join: new Map(),
  invite: {},
  knock: {},
  leave: {},
  accountData: [],
  presence: [],
  toDevice: [],
  deviceLists: { changed: [], left: [] },
});

export class SyncResponse {
  private text: JsonText | undefined;

  constructor(
    readonly nextBatch: string,
    private readonly parts: SyncParts,
  ) {}

  /** The body as sent. */
  json(): JsonText {
    this.text ??= new JsonText(serialize(this.nextBatch, this.parts));
    return this.text;
  }

  /** The body as an object (a fresh copy each call). */
  object(): JsonObject {
    return JSON.parse(this.json().text) as JsonObject;
  }
}

const EMPTY_TAIL_WITHOUT_ACCOUNT_DATA = ',"presence":{"events":[]},"to_device":{"events":[]},"device_lists":{"changed":[],"left":[]},"device_one_time_keys_count":{}}';

function serialize(nextBatch: string, p: SyncParts): string {
  let rooms = '';
  if (p.join.size > 0) {
    let join = '';
    for (const [roomId, section] of p.join) {
      join += `${join === '' ? '' : ','}${JSON.stringify(roomId)}:${section instanceof JsonText ? section.text : JSON.stringify(section)}`;
    }
    rooms = `"join":{${join}}`;
  }
  for (const [key, sections] of [
    ['invite', p.invite],
    ['knock', p.knock],
    ['leave', p.leave],
  ] as const) {
    if (Object.keys(sections).length > 0) rooms += `${rooms === '' ? '' : ','}"${key}":${JSON.stringify(sections)}`;
  }
  const head = `{"next_batch":${JSON.stringify(nextBatch)},"rooms":{${rooms}},"account_data":{"events":${JSON.stringify(p.accountData)}}`;
  // A woken sync usually has news in its rooms only: the rest of the body is the same constant text.
  if (p.presence.length === 0 && p.toDevice.length === 0 && p.deviceLists.changed.length === 0 && p.deviceLists.left.length === 0) {
    return head + EMPTY_TAIL_WITHOUT_ACCOUNT_DATA;
  }
  const rest = {
    presence: { events: p.presence },
    to_device: { events: p.toDevice },
    device_lists: { changed: p.deviceLists.changed, left: p.deviceLists.left },
    device_one_time_keys_count: {},
  };
  // `rest` serialized is `{...}`: its members continue the head's object.
  return `${head},${JSON.stringify(rest).slice(1)}`;
}
