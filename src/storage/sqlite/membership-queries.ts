/** Reads and updates of the `room_memberships` table (written with current state, see event-writes.ts). */
import type { Pdu } from '../../core/pdu.js';
import type { MembershipRecord } from '../event-store.js';
import { TIMELINE } from './event-rows.js';
import type { Prepare } from './statement-cache.js';

interface MembershipRow {
  room_id: string;
  user_id: string;
  membership: string;
  event_id: string;
  stream_ordering: number;
  forgotten: number;
}

function toMembership(r: MembershipRow): MembershipRecord {
  return {
    roomId: r.room_id,
    userId: r.user_id,
    membership: r.membership,
    eventId: r.event_id,
    streamOrdering: r.stream_ordering,
    forgotten: r.forgotten !== 0,
  };
}

export class SqliteMembershipQueries {
  constructor(private readonly prep: Prepare) {}

  async getMembership(roomId: string, userId: string): Promise<MembershipRecord | undefined> {
    const r = this.prep('SELECT * FROM room_memberships WHERE room_id = ? AND user_id = ?').get(roomId, userId) as
      | MembershipRow
      | undefined;
    return r && toMembership(r);
  }

  async getRoomsForUser(userId: string, memberships?: readonly string[]): Promise<MembershipRecord[]> {
    const rows = this.prep('SELECT * FROM room_memberships WHERE user_id = ? ORDER BY stream_ordering')
      .all(userId) as MembershipRow[];
    return rows.filter((r) => !memberships || memberships.includes(r.membership)).map(toMembership);
  }

  async getJoinedServers(roomId: string): Promise<string[]> {
    const rows = this.prep(
      `SELECT DISTINCT substr(user_id, instr(user_id, ':') + 1) AS server FROM room_memberships
       WHERE room_id = ? AND membership = 'join' AND instr(user_id, ':') > 0 ORDER BY server`,
    ).all(roomId) as Array<{ server: string }>;
    return rows.map((r) => r.server);
  }

  async hasJoinedMemberOn(roomId: string, server: string): Promise<boolean> {
    const row = this.prep(
      `SELECT 1 FROM room_memberships WHERE room_id = ? AND membership = 'join' AND substr(user_id, instr(user_id, ':') + 1) = ? LIMIT 1`,
    ).get(roomId, server);
    return row !== undefined;
  }

  async getRoomMembers(roomId: string, memberships?: readonly string[]): Promise<MembershipRecord[]> {
    const rows = this.prep('SELECT * FROM room_memberships WHERE room_id = ? ORDER BY user_id')
      .all(roomId) as MembershipRow[];
    return rows.filter((r) => !memberships || memberships.includes(r.membership)).map(toMembership);
  }

  async getMembershipChanges(userId: string, fromStream: number, toStream: number): Promise<MembershipRecord[]> {
    const rows = this.prep(
        `SELECT room_id, event_id, stream_ordering, pdu FROM events
         WHERE state_key = ? AND type = 'm.room.member' AND stream_ordering > ? AND stream_ordering <= ? AND ${TIMELINE}
         ORDER BY stream_ordering`,
      )
      .all(userId, fromStream, toStream) as Array<{ room_id: string; event_id: string; stream_ordering: number; pdu: string }>;
    return rows.map((r) => {
      const m = (JSON.parse(r.pdu) as Pdu).content.membership;
      return {
        roomId: r.room_id,
        userId,
        membership: typeof m === 'string' ? m : 'leave',
        eventId: r.event_id,
        streamOrdering: r.stream_ordering,
        forgotten: false,
      };
    });
  }

  async forgetRoom(userId: string, roomId: string): Promise<void> {
    this.prep('UPDATE room_memberships SET forgotten = 1 WHERE room_id = ? AND user_id = ?').run(roomId, userId);
  }
}
