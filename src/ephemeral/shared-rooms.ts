/** Who shares a joined room with whom: presence and device-list changes only go to those users. */
import type { EventStore } from '../storage/event-store.js';

/** Who came to share a room with a viewer, and who may have stopped, between two events positions. */
export interface MembershipMoves {
  /** Users newly in a joined room with the viewer (the viewer joined, or they joined one of the viewer's rooms). */
  joined: Set<string>;
  /** Users who left one of the viewer's rooms, or whose room the viewer left (they may still share another). */
  left: Set<string>;
}

/** Above this many candidates, reading the viewer's rooms' member lists beats one query per candidate. */
const PER_USER_LOOKUPS = 50;

export async function joinedRoomIds(events: EventStore, userId: string): Promise<string[]> {
  return (await events.getRoomsForUser(userId, ['join'])).map((m) => m.roomId);
}

/** The candidates sharing at least one joined room with `viewer`. */
export async function sharingRoomWith(events: EventStore, viewer: string, candidates: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (candidates.length === 0) return out;
  const mine = await joinedRoomIds(events, viewer);
  if (mine.length === 0) return out;
  if (candidates.length > PER_USER_LOOKUPS) {
    const wanted = new Set(candidates);
    for (const roomId of mine) {
      for (const m of await events.getRoomMembers(roomId, ['join'])) if (wanted.has(m.userId)) out.add(m.userId);
    }
    return out;
  }
  const mineSet = new Set(mine);
  for (const c of candidates) {
    if ((await joinedRoomIds(events, c)).some((r) => mineSet.has(r))) out.add(c);
  }
  return out;
}

/**
 * The membership changes in (fromExclusive, toInclusive] that concern `viewer`, whose joined rooms
 * at `toInclusive` are `joinedRooms`: everyone in a room the viewer joined (or left), and those
 * joining or leaving the viewer's rooms.
 */
export async function membershipMoves(
  events: EventStore,
  viewer: string,
  fromExclusive: number,
  toInclusive: number,
  joinedRooms: readonly string[],
): Promise<MembershipMoves> {
  const joined = new Set<string>();
  const left = new Set<string>();
  if (toInclusive <= fromExclusive) return { joined, left };
  const joinedNow = new Set(joinedRooms);
  for (const m of await events.getMembershipChanges(viewer, fromExclusive, toInclusive)) {
    for (const member of await events.getRoomMembers(m.roomId, ['join'])) {
      if (member.userId === viewer) continue;
      if (joinedNow.has(m.roomId)) joined.add(member.userId);
      else left.add(member.userId);
    }
  }
  for (const e of await events.getEventsInRooms(joinedRooms, fromExclusive, toInclusive)) {
    const ev = e.event;
    if (ev.type !== 'm.room.member' || ev.stateKey === undefined || ev.stateKey === viewer) continue;
    const membership = ev.content.membership;
    if (membership === 'join') joined.add(ev.stateKey);
    else if (membership === 'leave' || membership === 'ban') left.add(ev.stateKey);
  }
  return { joined, left };
}
