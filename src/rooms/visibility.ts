import type { JsonObject } from '../core/json.js';

/**
 * History visibility (client-server spec, "Room History Visibility", server behaviour).
 * Pure: the caller looks up the room state around the event and whether the user joined later;
 * every read path (event fetch, /messages, /sync, /context, search) asks this one function.
 */

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

const KNOWN = new Set<string>(['world_readable', 'shared', 'invited', 'joined']);

/** The visibility a `m.room.history_visibility` content means; absent or unknown values mean `shared`. */
export function historyVisibilityOf(content: JsonObject | undefined): HistoryVisibility {
  const v = content?.history_visibility;
  return typeof v === 'string' && KNOWN.has(v) ? (v as HistoryVisibility) : 'shared';
}

/** What the room state says about the viewer at one point. */
export interface VisibilitySnapshot {
  historyVisibility: HistoryVisibility;
  /** The viewer's membership (`join`, `invite`, `leave`, `ban`, `knock`) or undefined if none. */
  membership: string | undefined;
}

export interface VisibilityQuery {
  /** The event being considered. */
  event: { type: string; stateKey: string | undefined };
  viewer: string;
  /** State before the event. */
  before: VisibilitySnapshot;
  /**
   * State after the event. Only differs from `before` for state events; it matters for
   * history-visibility events and for the viewer's own membership events.
   */
  after?: VisibilitySnapshot;
  /** The viewer joined the room at some point after the event (e.g. is joined now). */
  joinedLater: boolean;
}

function allowedBy(s: VisibilitySnapshot, joinedLater: boolean): boolean {
  if (s.historyVisibility === 'world_readable') return true;
  if (s.membership === 'join') return true;
  if (s.historyVisibility === 'shared' && joinedLater) return true;
  if (s.historyVisibility === 'invited' && s.membership === 'invite') return true;
  return false;
}

export function canSeeEvent(q: VisibilityQuery): boolean {
  if (allowedBy(q.before, q.joinedLater)) return true;
  const special =
    q.event.type === 'm.room.history_visibility' ||
    (q.event.type === 'm.room.member' && q.event.stateKey === q.viewer);
  return special && q.after !== undefined && allowedBy(q.after, q.joinedLater);
}

/**
 * Whether anyone at all, member or not, may read the room at a point: `world_readable`
 * rooms can be previewed and read by non-members (room previews module).
 */
export function isWorldReadable(content: JsonObject | undefined): boolean {
  return historyVisibilityOf(content) === 'world_readable';
}
