/**
 * Joining a remote room whose state holds N members (default 10,000): two servers in one
 * process (each its own SQLite database on disk, its own key), requests as function calls, so
 * the figures are the servers' own work — template, state + auth chain of the resident server,
 * checking and storing them on the joining server, the join through the pipeline — without the
 * network. Prints time to join, time until a message sent right after is stored on the resident
 * server, and RSS.
 *
 * For profiling (`node --cpu-prof dist/bench/federation-join-inprocess.js`); the honest figures,
 * two server processes over HTTPS, come from bench/federation-join.ts.
 *
 *   node dist/bench/federation-join-inprocess.js [members]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestFederation } from '../test/federation/servers-fixture.js';

const members = Number(process.argv[2] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'comet-fedjoin-'));
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

try {
  const fed = new TestFederation();
  // The resident server's database is in memory only to keep the setup short; the joining server's is on disk.
  const hs1 = await fed.addServer('hs1.test', ['alice']);
  const roomId = await hs1.rooms.createRoom('@alice:hs1.test', { preset: 'public_chat', room_alias_name: 'big' });
  let t = performance.now();
  let cpu = process.cpuUsage();
  // Members go in as local joins of the resident server (one pipeline pass each).
  await hs1.rooms.pipeline.exclusive(roomId, async () => {
    for (let i = 0; i < members; i++) {
      const user = `@u${i}:hs1.test`;
      const r = await hs1.rooms.creator.sendLocked(roomId, { type: 'm.room.member', stateKey: user, sender: user, content: { membership: 'join' } });
      if (!r.ok) throw new Error(r.error);
    }
  });
  cpu = process.cpuUsage(cpu);
  console.log(`setup: ${members} members joined on hs1 in ${((performance.now() - t) / 1000).toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`);

  const hs2 = await fed.addServer('hs2.test', ['bob'], join(dir, 'hs2.db'));
  const rssBefore = process.memoryUsage().rss;
  t = performance.now();
  cpu = process.cpuUsage();
  await hs2.rooms.join('@bob:hs2.test', '#big:hs1.test', undefined);
  const joinMs = performance.now() - t;
  const state = await hs2.storage.events.getCurrentState(roomId);
  const eventId = await hs2.rooms.sendMessage(roomId, '@bob:hs2.test', 'm.room.message', { body: 'hello' }, { userId: '@bob:hs2.test', deviceId: 'D', txnId: '1' });
  await fed.flush();
  const firstMs = performance.now() - t;
  cpu = process.cpuUsage(cpu);
  const arrived = await hs1.storage.events.getEvent(eventId);
  if (!arrived || arrived.softFailed) throw new Error('the first message did not arrive');
  console.log(`join of a room with ${state.size} state events (${members + 2} members): ${(joinMs / 1000).toFixed(2)} s`);
  console.log(`time to first message stored on the resident server: ${(firstMs / 1000).toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)`);
  console.log(`RSS: ${mb(process.memoryUsage().rss)} (before the join ${mb(rssBefore)}; both servers in this process)`);
  await hs1.storage.close();
  await hs2.storage.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
