/**
 * Joining a remote room whose state holds N members (default 10,000), between real server
 * processes over HTTPS on loopback (spec-tests/harness/federation.ts: test CA, X-Matrix auth,
 * key fetching — everything a real join does).
 *
 * The resident server, hs1.test, gets the room made through its client API; the N members are
 * then added offline: with hs1 stopped, this process opens hs1's database and signing key and
 * sends N local joins (`@uI:hs1.test`) through the same rooms service and event pipeline the
 * server runs, and times that (it is the local send path at scale, minus the fsync per commit,
 * which is switched off for this offline step). hs1 is then restarted.
 *
 * Each run is a fresh joining server (hs2.test, hs3.test, …, one process each): a user there
 * joins `#big:hs1.test` through the client API, then sends a message. Printed per run: time
 * to join (the /join request), time to first message (from the start of the join until hs1
 * serves the message to its own user), the CPU time both servers spent on that (all threads;
 * on a shared machine wall time is CPU time stretched by whatever else runs), the joiner's RSS
 * after the join and its peak RSS; then the medians.
 *
 *   node dist/bench/federation-join.js [members] [runs]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSigningKeyFile } from '../src/core/signing.js';
import { InProcessNotifier } from '../src/notifier.js';
import { Rooms } from '../src/room-engine/rooms.js';
import { openDatabase } from '../src/storage/sqlite/database.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { api, registerUser } from '../spec-tests/harness/client.js';
import { startFederation } from '../spec-tests/harness/federation.js';

const members = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 3);

const names = ['hs1.test', ...Array.from({ length: runs }, (_, i) => `hs${i + 2}.test`)];
const fed = await startFederation(names);

/** utime + stime of a process, in seconds (from /proc; clock ticks are 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 600_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

try {
  let hs1 = fed.get('hs1.test').server;
  const alice = await registerUser(hs1, 'alice');
  const created = await api(hs1, 'POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat', room_alias_name: 'big' },
  });
  if (created.status !== 200) throw new Error(JSON.stringify(created.body));
  const roomId = created.body.room_id as string;

  // Members, offline, through hs1's own rooms service and pipeline.
  await fed.stop('hs1.test');
  {
    // No fsync per event while building the fixture: durability of the setup is not what is measured.
    const db = openDatabase(join(hs1.dir, 'data', 'comet.db'));
    db.pragma('synchronous = OFF');
    const storage = new SqliteStorage(db);
    const signingKey = parseSigningKeyFile(readFileSync(join(hs1.dir, 'data', 'signing.key'), 'utf8'))[0];
    const rooms = new Rooms({
      storage,
      serverName: 'hs1.test',
      signingKey,
      now: () => Date.now(),
      notifier: new InProcessNotifier(),
      logger: pino({ level: 'silent' }),
    });
    const t = performance.now();
    const cpu = process.cpuUsage();
    await rooms.pipeline.exclusive(roomId, async () => {
      for (let i = 0; i < members; i++) {
        const user = `@u${i}:hs1.test`;
        const r = await rooms.creator.sendLocked(roomId, { type: 'm.room.member', stateKey: user, sender: user, content: { membership: 'join' } });
        if (!r.ok) throw new Error(r.error);
      }
    });
    const used = process.cpuUsage(cpu);
    console.log(
      `setup: ${members} local joins through the pipeline in ${s(performance.now() - t)} (CPU ${((used.user + used.system) / 1e6).toFixed(1)} s)`,
    );
    await storage.close();
  }
  hs1 = (await fed.restart('hs1.test')).server;
  const aliceToken = alice.accessToken;

  const results: Array<{ join: number; first: number; cpu: number; residentCpu: number; rss: number; peak: number }> = [];
  for (const name of names.slice(1)) {
    const hs = fed.get(name).server;
    const bob = await registerUser(hs, 'bob');
    const cpu0 = cpuSeconds(hs.pid);
    const residentCpu0 = cpuSeconds(hs1.pid);
    const t0 = performance.now();
    const joined = await api(hs, 'POST', `/_matrix/client/v3/join/${encodeURIComponent('#big:hs1.test')}`, { token: bob.accessToken, body: {} });
    const joinMs = performance.now() - t0;
    if (joined.status !== 200) throw new Error(`join on ${name}: ${JSON.stringify(joined.body)}`);
    const sent = await api(hs, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/first`, {
      token: bob.accessToken,
      body: { msgtype: 'm.text', body: `hello from ${name}` },
    });
    if (sent.status !== 200) throw new Error(`send on ${name}: ${JSON.stringify(sent.body)}`);
    const eventId = sent.body.event_id as string;
    await until(async () => {
      const r = await api(hs1, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, {
        token: aliceToken,
      });
      return r.status === 200 ? true : undefined;
    });
    const firstMs = performance.now() - t0;
    const cpu = cpuSeconds(hs.pid) - cpu0;
    const residentCpu = cpuSeconds(hs1.pid) - residentCpu0;
    const mem = memory(hs.pid);
    results.push({ join: joinMs, first: firstMs, cpu, residentCpu, ...mem });
    console.log(
      `${name}: join ${s(joinMs)}, first message on hs1 ${s(firstMs)}, joiner CPU ${cpu.toFixed(2)} s, resident CPU ${residentCpu.toFixed(2)} s, ` +
        `joiner RSS ${mb(mem.rss)} (peak ${mb(mem.peak)})`,
    );
  }
  console.log(
    `median of ${results.length} (${members + 1}+ members): join ${s(median(results.map((r) => r.join)))}, ` +
      `first message ${s(median(results.map((r) => r.first)))}, joiner CPU ${median(results.map((r) => r.cpu)).toFixed(2)} s, ` +
      `resident CPU ${median(results.map((r) => r.residentCpu)).toFixed(2)} s, joiner RSS ${mb(median(results.map((r) => r.rss)))} (peak ${mb(median(results.map((r) => r.peak)))})`,
  );
} finally {
  await fed.close();
}
