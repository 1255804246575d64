/**
 * The sync-building share of fan-out, without HTTP or sockets: one room with M members, each
 * message wakes every member, whose incremental sync is then built in-process exactly as a woken
 * long poll or WebSocket builds it (same filter as bench/fanout.ts). Prints server CPU per built
 * sync, median of the rounds: the figure that the shared room delta and the per-user pieces decide.
 *
 * Run: node dist/bench/fanout-build.js [members=1000] [messages=50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { prepareSession } from '../src/accounts/sessions.js';
import { createAppContext } from '../src/app-context.js';
import { parseConfig } from '../src/config/config.js';
import { generateSigningKey } from '../src/core/signing.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { parseFilter } from '../src/sync/filter.js';
import { formatSyncToken, type SyncToken } from '../src/sync/sync-token.js';
import { testConfig } from '../spec-tests/harness/server.js';

const members = Number(process.argv[2] ?? 1000);
const messages = Number(process.argv[3] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'comet-fanout-build-'));
try {
  const config = parseConfig(testConfig({ log: { level: 'silent' } }), dir);
  const storage = SqliteStorage.open(':memory:');
  const app = createAppContext({ config, logger: pino({ level: 'silent' }), storage, signingKey: generateSigningKey('bench') });
  const users: string[] = [];
  for (let i = 0; i < members; i++) {
    const userId = `@b${i}:${config.server_name}`;
    const s = prepareSession(app, { userId, deviceId: 'BENCH', wantsRefreshToken: false, ip: null });
    await storage.accounts.createUser({ userId, passwordHash: null, isAdmin: false, createdTs: 0, profile: {} }, s.record);
    users.push(userId);
  }
  const roomId = await app.rooms.createRoom(users[0], { preset: 'public_chat' });
  for (let i = 1; i < members; i++) await app.rooms.join(users[i], roomId, undefined);

  const parsed = parseFilter({ room: { timeline: { limit: 100 }, state: { lazy_load_members: true } } });
  if (!parsed.ok) throw new Error(parsed.reason);
  const filter = parsed.filter;
  const viewer = (u: string) => ({ userId: u, deviceId: 'BENCH' });
  // Every member caught up (their initial sync), as connected clients are.
  const since = new Map<string, SyncToken>();
  for (const u of users) {
    const r = await app.sync.syncResult({ viewer: viewer(u), since: undefined, filter, fullState: false, timeoutMs: 0 });
    since.set(u, r.next);
  }
  const perBuild: number[] = [];
  const phase = Date.now();
  for (let m = 0; m < messages; m++) {
    const sender = users[m % 10];
    await app.rooms.sendMessage(roomId, sender, 'm.room.message', { msgtype: 'm.text', body: `fan-out ${m}` }, { userId: sender, deviceId: 'BENCH', txnId: `t${m}` });
    const a = process.cpuUsage();
    // Serialising is part of every delivery (the text is what goes out), so it is inside the figure.
    const built = await Promise.all(
      users.map(async (u) => {
        const r = await app.sync.syncResult({ viewer: viewer(u), since: since.get(u), filter, fullState: false, timeoutMs: 0 });
        return { next: r.next, text: r.response.json().text };
      }),
    );
    const b = process.cpuUsage(a);
    perBuild.push((b.user + b.system) / users.length);
    for (let i = 0; i < users.length; i++) {
      since.set(users[i], built[i].next);
      if (i === 0 && m === 0) console.log(`one delta: ${built[i].text.length} bytes, next_batch ${formatSyncToken(built[i].next)}`);
    }
  }
  console.log(`message phase ${((Date.now() - phase) / 1000).toFixed(1)} s`);
  perBuild.sort((x, y) => x - y);
  const median = perBuild[Math.floor(perBuild.length / 2)];
  console.log(
    `fan-out build: ${members} members, ${messages} messages: CPU per woken sync median ${median.toFixed(1)} µs ` +
      `(p10 ${perBuild[Math.floor(perBuild.length / 10)].toFixed(1)}, p90 ${perBuild[Math.floor((perBuild.length * 9) / 10)].toFixed(1)})`,
  );
  await storage.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
