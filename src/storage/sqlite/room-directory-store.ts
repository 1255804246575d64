/** SQLite implementation of aliases and the published room directory. */
import type Database from 'better-sqlite3';
import type { RoomDirectoryStore } from '../event-store.js';

export class SqliteRoomDirectoryStore implements RoomDirectoryStore {
  constructor(private readonly db: Database.Database) {}


  async createAlias(alias: string, roomId: string, creator: string): Promise<boolean> {
    const r = this.db.prepare('INSERT OR IGNORE INTO room_aliases (alias, room_id, creator) VALUES (?, ?, ?)')
      .run(alias, roomId, creator);
    return r.changes === 1;
  }

  async getAlias(alias: string): Promise<{ roomId: string; creator: string } | undefined> {
    const r = this.db.prepare('SELECT room_id, creator FROM room_aliases WHERE alias = ?').get(alias) as
      | { room_id: string; creator: string }
      | undefined;
    return r && { roomId: r.room_id, creator: r.creator };
  }

  async deleteAlias(alias: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM room_aliases WHERE alias = ?').run(alias).changes === 1;
  }

  async getAliasesForRoom(roomId: string): Promise<string[]> {
    const rows = this.db.prepare('SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias').all(roomId) as Array<{
      alias: string;
    }>;
    return rows.map((r) => r.alias);
  }

  async setRoomPublic(roomId: string, isPublic: boolean): Promise<void> {
    this.db.prepare('UPDATE rooms SET is_public = ? WHERE room_id = ?').run(isPublic ? 1 : 0, roomId);
  }

  async listPublicRooms(): Promise<string[]> {
    const rows = this.db.prepare('SELECT room_id FROM rooms WHERE is_public = 1 ORDER BY created_stream').all() as Array<{
      room_id: string;
    }>;
    return rows.map((r) => r.room_id);
  }
}
