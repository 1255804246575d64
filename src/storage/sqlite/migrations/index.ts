/**
 * The ordered list of schema migrations. Append new ones (never edit an applied one); each runs once,
 * in its own transaction, and is recorded in `schema_version`.
 */
import type Database from 'better-sqlite3';
import { accounts001 } from './001-accounts.js';
import { rooms002 } from './002-rooms.js';
import { media003 } from './003-media.js';
import { federationKeys004 } from './004-federation-keys.js';
import { federationQueue005 } from './005-federation-queue.js';
import { ephemeral006 } from './006-ephemeral.js';
import { federationEdus007 } from './007-federation-edus.js';
import { remoteMedia009 } from './009-remote-media.js';
import { openId010 } from './010-openid.js';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  accounts001,
  rooms002,
  media003,
  federationKeys004,
  federationQueue005,
  ephemeral006,
  federationEdus007,
  remoteMedia009,
  openId010,
];
