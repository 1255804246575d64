/**
 * Idle capacity: N concurrent sync connections, all WebSocket or all long-poll, held open by
 * load-generator processes on loopback (one source address each); prints the server's RSS and CPU
 * while they idle. Each user has its own access token and no rooms.
 *
 * Run: node dist/bench/idle-capacity.js ws|longpoll [N=19900] [clientProcesses=4]
 * The server process needs N + ~30 file descriptors (`ulimit -n`); in this container the hard
 * limit is 20,000, hence the default just under it.
 */
import { Fleet, split } from './load/fleet.js';
import { prepare, processStats, sleep, startPrepared } from './load/prepare.js';

const mode = process.argv[2] === 'longpoll' ? 'longpoll' : 'ws';
const n = Number(process.argv[3] ?? 19_900);
const procs = Number(process.argv[4] ?? 4);
const IDLE_WINDOW_MS = 30_000;

const t0 = Date.now();
const prepared = await prepare({ users: n });
console.log(`prepared ${n} users in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const server = await startPrepared(prepared);
const fleet = new Fleet();
try {
  await sleep(1000);
  const base = processStats(server.pid);
  console.log(`server idle before connections: RSS ${base.rssMiB.toFixed(0)} MiB`);
  const t1 = Date.now();
  const tokens = split(
    prepared.users.map((u) => u.token),
    procs,
  );
  const result = await fleet.start(
    tokens.map((t, i) => ({ mode, baseUrl: server.baseUrl, tokens: t, localAddress: `127.0.0.${i + 2}` })),
  );
  console.log(`${mode}: ${result.connected} connected (${result.errors} errors${result.errorKinds.length ? `: ${result.errorKinds.join('; ')}` : ''}) in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  await sleep(5000);
  const a = processStats(server.pid);
  await sleep(IDLE_WINDOW_MS);
  const b = processStats(server.pid);
  const report = await fleet.report();
  console.log(
    `${mode} idle, ${result.connected} connections: server RSS ${b.rssMiB.toFixed(0)} MiB ` +
      `(+${(((b.rssMiB - base.rssMiB) * 1024) / Math.max(1, result.connected)).toFixed(1)} KiB per connection), ` +
      `CPU ${((100 * (b.cpuMs - a.cpuMs)) / IDLE_WINDOW_MS).toFixed(1)}% of one core over ${IDLE_WINDOW_MS / 1000} s; ` +
      `client errors ${report.errors}, unexpected closes ${report.closedUnexpectedly}`,
  );
} finally {
  await fleet.stop();
  await server.stop();
  server.cleanup();
}
