/** Who shares a joined room with whom: presence and device-list changes only go to those users. */
import type { EventStore } from '../storage/event-store.js';

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
