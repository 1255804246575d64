/**
 * Bench set-up outside the server: a data directory with N users (each with an access token) and
 * optionally one public room they all joined, written straight through the storage and rooms
 * layers (durability off: this is set-up, not the thing measured), then a server started on it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { prepareSession } from '../../src/accounts/sessions.js';
import { createAppContext } from '../../src/app-context.js';
import { parseConfig } from '../../src/config/config.js';
import { loadOrCreateSigningKey } from '../../src/keys/signing-key-file.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { launch, type TestServer, testConfig } from '../../spec-tests/harness/server.js';

export interface BenchUser {
  userId: string;
  token: string;
}

export interface Prepared {
  dir: string;
  configPath: string;
  users: BenchUser[];
  roomId?: string;
}

type ConfigTree = { [key: string]: unknown };

export async function prepare(opts: { users: number; roomMembers?: number; config?: ConfigTree }): Promise<Prepared> {
  const dir = mkdtempSync(join(tmpdir(), 'comet-bench-'));
  const raw = testConfig({
    // info, as in production: the harness also waits for the "listening" line logged at info.
    log: { level: 'info' },
    rate_limits: { send: { per_second: 100000, burst: 100000 } },
    ...opts.config,
  });
  const configPath = join(dir, 'comet.yaml');
  writeFileSync(configPath, stringify(raw));
  const config = parseConfig(raw, dir);
  mkdirSync(dirname(config.database.path), { recursive: true });
  const storage = SqliteStorage.open(config.database.path);
  storage.db.pragma('synchronous = OFF');
  const { key } = loadOrCreateSigningKey(config.signing_key_path);
  const app = createAppContext({ config, logger: pino({ level: 'silent' }), storage, signingKey: key });
  const users: BenchUser[] = [];
  for (let i = 0; i < opts.users; i++) {
    const userId = `@b${i}:${config.server_name}`;
    const s = prepareSession(app, { userId, deviceId: 'BENCH', wantsRefreshToken: false, ip: null });
    await storage.accounts.createUser({ userId, passwordHash: null, isAdmin: false, createdTs: 0, profile: {} }, s.record);
    users.push({ userId, token: s.response.access_token as string });
  }
  let roomId: string | undefined;
  if (opts.roomMembers) {
    roomId = await app.rooms.createRoom(users[0].userId, { preset: 'public_chat' });
    for (let i = 1; i < opts.roomMembers; i++) await app.rooms.join(users[i].userId, roomId, undefined);
  }
  await storage.close();
  return { dir, configPath, users, roomId };
}

/** SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") adds node flags to the server process. */
export function startPrepared(p: Prepared): Promise<TestServer> {
  const nodeArgs = process.env.SERVER_NODE_ARGS?.split(' ').filter((a) => a !== '');
  return launch(p.dir, p.configPath, undefined, nodeArgs);
}

/** Restricts every thread of a process to one CPU (util-linux taskset). */
export function pinToCpu(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** CPU time (user + system, ms) and resident memory (MiB) of a process, from /proc. */
export function processStats(pid: number): { cpuMs: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 (1-based), in clock ticks of 1/100 s.
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs, rssMiB: rss ? Number(rss[1]) / 1024 : Number.NaN };
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
