/**
 * Fan-out: one room with M members, all connected (half WebSocket, half long-poll, in separate
 * load-generator processes); one member sends R messages/s for S seconds over HTTP, each carrying
 * its send time. Prints delivery latency (send started → message parsed by a receiver, every
 * member counted, the sender included) p50/p99/max, deliveries vs expected, and server CPU.
 *
 * Run: node dist/bench/fanout.js [members=1000] [perSecond=10] [seconds=60]
 */
import { Fleet, split } from './load/fleet.js';
import { percentile, prepare, processStats, sleep, startPrepared } from './load/prepare.js';

const members = Number(process.argv[2] ?? 1000);
const perSecond = Number(process.argv[3] ?? 10);
const seconds = Number(process.argv[4] ?? 60);
const PROCS_PER_MODE = 2;
// Room-scoped filter with room for a burst: no gaps even if a long poll comes back late.
const FILTER = JSON.stringify({ room: { timeline: { limit: 100 }, state: { lazy_load_members: true } } });

const t0 = Date.now();
const prepared = await prepare({ users: members, roomMembers: members });
const roomId = prepared.roomId!;
console.log(`prepared ${members} users in one room in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const server = await startPrepared(prepared);
const fleet = new Fleet();
try {
  const tokens = prepared.users.map((u) => u.token);
  const half = Math.floor(members / 2);
  const ws = split(tokens.slice(0, half), PROCS_PER_MODE);
  const lp = split(tokens.slice(half), PROCS_PER_MODE);
  let addr = 2;
  const t1 = Date.now();
  const result = await fleet.start([
    ...ws.map((t) => ({ mode: 'ws' as const, baseUrl: server.baseUrl, tokens: t, localAddress: `127.0.0.${addr++}`, filter: FILTER })),
    ...lp.map((t) => ({ mode: 'longpoll' as const, baseUrl: server.baseUrl, tokens: t, localAddress: `127.0.0.${addr++}`, filter: FILTER })),
  ]);
  console.log(`${result.connected} connected (${result.errors} errors${result.errorKinds.length ? `: ${result.errorKinds.join('; ')}` : ''}) in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  await sleep(2000);

  const sender = prepared.users[0];
  const url = `${server.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`;
  const total = perSecond * seconds;
  let failed = 0;
  const sends: Promise<void>[] = [];
  const a = processStats(server.pid);
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    // Paced against the clock, not against the previous send's completion.
    const due = start + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(
      fetch(url + i, {
        method: 'PUT',
        headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ msgtype: 'm.text', body: `fan-out ${i}`, ts: Date.now() }),
      }).then(
        (res) => {
          if (!res.ok) failed++;
          return res.arrayBuffer().then(() => undefined);
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(sends);
  const sendMs = Date.now() - start;
  await sleep(30_000); // stragglers (an overloaded server coalesces deliveries)
  const b = processStats(server.pid);
  const report = await fleet.report();
  const lat = Float64Array.from(report.latencies).sort();
  const expected = total * members;
  console.log(
    `fan-out: ${members} members (${half} WS, ${members - half} long-poll), ${total} messages at ${perSecond}/s over ${(sendMs / 1000).toFixed(1)} s (${failed} failed sends)`,
  );
  console.log(
    `delivered ${lat.length}/${expected} (${((100 * lat.length) / expected).toFixed(2)}%); latency p50 ${percentile(lat, 50)} ms, ` +
      `p99 ${percentile(lat, 99)} ms, max ${lat.at(-1)} ms; server CPU ${((100 * (b.cpuMs - a.cpuMs)) / (Date.now() - start)).toFixed(0)}% of one core, ` +
      `RSS ${b.rssMiB.toFixed(0)} MiB; client errors ${report.errors}, unexpected closes ${report.closedUnexpectedly}`,
  );
} finally {
  await fleet.stop();
  await server.stop();
  server.cleanup();
}
