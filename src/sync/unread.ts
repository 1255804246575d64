/**
 * Unread counts for /sync `unread_notifications`, until push rules exist.
 *
 * The rules (documented in docs/sync.md):
 * - Only events after the user's read marker count. The marker is the latest of: the room's
 *   `m.fully_read` account data event, the user's latest read receipt (`m.read` or `m.read.private`,
 *   unthreaded or for the main timeline), and
 *   the user's own latest event in the room (sending implies having read what came before).
 * - An event notifies when it is not a state event, not sent by the user, not a redaction, and
 *   not itself redacted. (Without push rules every message-like event counts.)
 * - An `m.call.invite` (the spec's `.m.rule.call`) stops notifying once its `lifetime` has run out:
 *   its age (the viewer's `now` minus `origin_server_ts`, the same measure as `unsigned.age`) is
 *   more than `lifetime` ms. Counts are worked out at sync time, so a ringing invite counts while it
 *   is live and drops out of the count when it expires; one that arrives already expired never counts.
 * - It highlights when it notifies and mentions the user: if the content carries `m.mentions`
 *   (intentional mentions), only `m.mentions.user_ids` containing the user counts, as the spec's
 *   `.m.rule.is_user_mention` rule supersedes body matching; otherwise the body mentions the full
 *   user ID (case-insensitive) or the user's room display name as a whole word (case-insensitive).
 */
import { isJsonObject, type JsonObject } from '../core/json.js';

export interface UnreadViewer {
  userId: string;
  /** The viewer's display name in this room (their member event), if any. */
  displayName: string | undefined;
  /** The current time (ms), for call invite expiry; without it invites never expire. */
  now?: number;
}

export interface CountableEvent {
  type: string;
  stateKey: string | undefined;
  sender: string;
  content: JsonObject;
  /** The event has been redacted (its content no longer says anything). */
  redacted?: boolean;
  originServerTs?: number;
}

export interface UnreadCounts {
  notification_count: number;
  highlight_count: number;
}

export function notifies(ev: CountableEvent, viewer: UnreadViewer): boolean {
  if (ev.stateKey !== undefined || ev.sender === viewer.userId || ev.type === 'm.room.redaction' || ev.redacted === true) return false;
  return !expiredCallInvite(ev, viewer.now);
}

/** Per the spec's "Call Event Liveness": an invite older than its `lifetime` is no longer a call to answer. */
export function expiredCallInvite(ev: CountableEvent, now: number | undefined): boolean {
  const lifetime = ev.content.lifetime;
  if (ev.type !== 'm.call.invite' || typeof lifetime !== 'number' || now === undefined || ev.originServerTs === undefined) return false;
  return now - ev.originServerTs > lifetime;
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * The last body lower-cased: one message is checked for every member it wakes, one after another,
 * so a single remembered entry spares all but the first of them the copy.
 */
let lastBody: string | undefined;
let lastLowered = '';

function lowered(body: string): string {
  if (body !== lastBody) {
    lastLowered = body.toLowerCase();
    lastBody = body;
  }
  return lastLowered;
}

function containsWord(haystack: string, needle: string): boolean {
  const h = lowered(haystack);
  const n = needle.toLowerCase();
  for (let at = h.indexOf(n); at >= 0; at = h.indexOf(n, at + 1)) {
    const before = at === 0 ? '' : h[at - 1];
    const after = h.slice(at + n.length, at + n.length + 1);
    // Only demand a boundary where the name itself starts/ends with a word character.
    const startOk = !WORD_CHAR.test(n[0]) || before === '' || !WORD_CHAR.test(before);
    const endOk = !WORD_CHAR.test(n[n.length - 1]) || after === '' || !WORD_CHAR.test(after);
    if (startOk && endOk) return true;
  }
  return false;
}

export function highlights(ev: CountableEvent, viewer: UnreadViewer): boolean {
  if (!notifies(ev, viewer)) return false;
  const mentions = ev.content['m.mentions'];
  if (isJsonObject(mentions)) {
    const ids = mentions.user_ids;
    return Array.isArray(ids) && ids.includes(viewer.userId);
  }
  const body = ev.content.body;
  if (typeof body !== 'string') return false;
  if (lowered(body).includes(viewer.userId.toLowerCase())) return true;
  const name = viewer.displayName?.trim();
  return name !== undefined && name !== '' && containsWord(body, name);
}

/** Counts over the events after the read marker (the caller selects them). */
export function countUnread(events: Iterable<CountableEvent>, viewer: UnreadViewer): UnreadCounts {
  let notification_count = 0;
  let highlight_count = 0;
  for (const ev of events) {
    if (!notifies(ev, viewer)) continue;
    notification_count++;
    if (highlights(ev, viewer)) highlight_count++;
  }
  return { notification_count, highlight_count };
}
