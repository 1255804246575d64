/**
 * TEMPORARY until branch `server` (which owns this file and the accounts migration) is merged:
 * the same `Migration` shape, listing only the rooms migration.
 */
import type Database from 'better-sqlite3';
import { rooms002 } from './002-rooms.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [rooms002];
