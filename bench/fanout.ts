/**
 * Fan-out: one room with M members, all connected (half WebSocket, half long-poll, in separate
 * load-generator processes); one member sends R messages/s for S seconds over HTTP, each carrying
 * its send time. Prints delivery latency (send started → message parsed by a receiver, every
 * member counted, the sender included) p50/p99/max, deliveries vs expected, and server CPU.
 *
 * Connecting everyone is not measured: each member coming online is a presence change for the
 * whole room, so the bench waits for the server to go quiet before the first message. Latencies
 * are also printed per transport, with the send round trip (PUT → 200) for comparison. The machine
 * is shared: the load average is printed at start and end.
 *
 * Run: node dist/bench/fanout.js [members=1000] [perSecond=10] [seconds=60]
 * (SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.)
 * SET_PRESENCE=offline connects every client with set_presence=offline: no presence storm while
 * connecting (each member coming online is a change delivered to the 999 others), only the messages.
 * PIN=1 pins the server to CPU 0 and the load generators (and this process, the sender) to CPU 1:
 * in a deployment the clients are on other machines, and unpinned they take turns on the server's
 * core (a sample of the server's profile then lands in a write while a load generator runs).
 */
import { loadavg } from 'node:os';
import { DiskProbe } from './load/disk-probe.js';
import { Fleet, split } from './load/fleet.js';
import { percentile, pinToCpu, prepare, processStats, sleep, startPrepared } from './load/prepare.js';

const setPresence = (process.env.SET_PRESENCE ?? 'online') as 'online' | 'unavailable' | 'offline';
const members = Number(process.argv[2] ?? 1000);
const perSecond = Number(process.argv[3] ?? 10);
const seconds = Number(process.argv[4] ?? 60);
const PROCS_PER_MODE = 2;
// MODES=ws or MODES=longpoll connects every member with that transport only (default: half each).
const modes = process.env.MODES ?? 'both';
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
  const half = modes === 'ws' ? members : modes === 'longpoll' ? 0 : Math.floor(members / 2);
  const ws = half > 0 ? split(tokens.slice(0, half), PROCS_PER_MODE) : [];
  const lp = half < members ? split(tokens.slice(half), PROCS_PER_MODE) : [];
  let addr = 2;
  const t1 = Date.now();
  const result = await fleet.start([
    ...ws.map((t) => ({ mode: 'ws' as const, baseUrl: server.baseUrl, tokens: t, localAddress: `127.0.0.${addr++}`, filter: FILTER, setPresence })),
    ...lp.map((t) => ({ mode: 'longpoll' as const, baseUrl: server.baseUrl, tokens: t, localAddress: `127.0.0.${addr++}`, filter: FILTER, setPresence })),
  ]);
  if (process.env.PIN === '1') {
    pinToCpu(server.pid, 0);
    for (const pid of [...fleet.pids(), process.pid]) pinToCpu(pid, 1);
  }
  console.log(`${result.connected} connected (${result.errors} errors${result.errorKinds.length ? `: ${result.errorKinds.join('; ')}` : ''}) in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  const settled = await settle(server.pid);
  console.log(`server quiet after ${(settled / 1000).toFixed(1)} more s; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

  const sender = prepared.users[0];
  const url = `${server.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`;
  const total = perSecond * seconds;
  let failed = 0;
  const sendMs: number[] = [];
  const sends: Promise<void>[] = [];
  const a = processStats(server.pid);
  const clientsA = fleet.pids().map((pid) => processStats(pid).cpuMs);
  const probe = new DiskProbe(prepared.dir);
  probe.start();
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    // Paced against the clock, not against the previous send's completion.
    const due = start + (i * 1000) / perSecond;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const sentAt = Date.now();
    sends.push(
      fetch(url + i, {
        method: 'PUT',
        headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ msgtype: 'm.text', body: `fan-out ${i}`, ts: Date.now() }),
      }).then(
        (res) => {
          if (!res.ok) failed++;
          return res.arrayBuffer().then(() => {
            sendMs.push(Date.now() - sentAt);
          });
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(sends);
  const sendPhaseMs = Date.now() - start;
  const disk = await probe.stop();
  const b = processStats(server.pid);
  const clientsCpuMs = fleet.pids().reduce((sum, pid, i) => sum + processStats(pid).cpuMs - clientsA[i], 0);
  await sleep(15_000); // stragglers (an overloaded server coalesces deliveries)
  const c = processStats(server.pid);
  const report = await fleet.report();
  const lat = Float64Array.from(report.latencies).sort();
  const expected = total * members;
  const stats = (xs: Float64Array) => `p50 ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${xs.at(-1)} ms`;
  console.log(
    `fan-out: ${members} members (${half} WS, ${members - half} long-poll; set_presence=${setPresence}${process.env.PIN === '1' ? '; pinned' : ''}), ${total} messages at ${perSecond}/s over ${(sendPhaseMs / 1000).toFixed(1)} s (${failed} failed sends)`,
  );
  console.log(
    `delivered ${lat.length}/${expected} (${((100 * lat.length) / expected).toFixed(2)}%); latency ${stats(lat)}; ` +
      `WS ${stats(Float64Array.from(report.byMode.ws).sort())}; long-poll ${stats(Float64Array.from(report.byMode.longpoll).sort())}; ` +
      `send round trip ${stats(Float64Array.from(sendMs).sort())}`,
  );
  console.log(
    `server CPU ${((100 * (b.cpuMs - a.cpuMs)) / sendPhaseMs).toFixed(0)}% of one core while sending, RSS ${b.rssMiB.toFixed(0)} MiB; ` +
      `per delivery ${((1000 * (c.cpuMs - a.cpuMs)) / Math.max(1, lat.length)).toFixed(0)} µs server CPU (send phase + stragglers); ` +
      `client errors ${report.errors}, unexpected closes ${report.closedUnexpectedly}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );
  // Frames per delivery below 1: deliveries coalesced (a client got several messages in one response).
  console.log(
    `load generators: ${((100 * clientsCpuMs) / sendPhaseMs).toFixed(0)}% of one core while sending; ` +
      `${report.frames} sync responses/frames for ${lat.length} deliveries (${(report.frames / Math.max(1, lat.length)).toFixed(2)} per delivery); ` +
      `their event-loop delay p99 ${report.loopDelayMs.p99.toFixed(0)} ms, max ${report.loopDelayMs.max.toFixed(0)} ms (worst process)`,
  );
  console.log(disk);
} finally {
  await fleet.stop();
  await server.stop();
  server.cleanup();
}

/** Waits until the server uses under 15% of a core for 3 s in a row (at most 10 min); returns the ms waited. */
async function settle(pid: number): Promise<number> {
  const t = Date.now();
  let quiet = 0;
  let prev = processStats(pid).cpuMs;
  while (quiet < 3 && Date.now() - t < 600_000) {
    await sleep(1000);
    const cpu = processStats(pid).cpuMs;
    quiet = cpu - prev < 150 ? quiet + 1 : 0;
    prev = cpu;
  }
  return Date.now() - t;
}
