/**
 * Idle capacity: N concurrent sync connections, all WebSocket or all long-poll, held open by
 * load-generator processes on loopback (one source address each); prints the server's RSS and CPU
 * while they idle. Each user has its own access token and no rooms.
 *
 * Run: node dist/bench/idle-capacity.js ws|longpoll [N] [clientProcesses=4]
 * Every connection is a file descriptor of the server process, which also needs some for its own
 * files: it accepts at most its open-files limit less src/http/connection-limit.ts RESERVED_FDS
 * connections and refuses (and logs) the rest. N defaults to exactly that budget; the bench prints
 * the limit, the connections reached, and any refusal the server logged, so nothing is lost silently.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { connectionBudget } from '../src/http/connection-limit.js';
import { Fleet, split } from './load/fleet.js';
import { prepare, processStats, sleep, startPrepared } from './load/prepare.js';

/** The open-files limit of a process (soft, hard), from /proc. */
function fileLimit(pid: number | 'self'): { soft: number; hard: number } | undefined {
  const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? { soft: Number(m[1]), hard: Number(m[2]) } : undefined;
}

const mode = process.argv[2] === 'longpoll' ? 'longpoll' : 'ws';
// The server inherits this process's limit.
const limit = fileLimit('self');
const n = Number(process.argv[3] ?? connectionBudget(limit) ?? 19_744);
const procs = Number(process.argv[4] ?? 4);
const IDLE_WINDOW_MS = 30_000;
console.log(`open-files limit ${limit ? `soft ${limit.soft}, hard ${limit.hard}` : 'unknown'}; aiming at ${n} ${mode} connections`);

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
  const fds = readdirSync(`/proc/${server.pid}/fd`).length;
  const refused = server.logs().filter((l) => l.event === 'connections_refused');
  const dropped = refused.reduce((k, l) => k + Number(l.dropped ?? 0) + Number(l.accept_errors ?? 0), 0);
  const serverLimit = fileLimit(server.pid);
  console.log(
    `${mode} idle, ${result.connected} of ${n} connected: server RSS ${b.rssMiB.toFixed(0)} MiB ` +
      `(+${(((b.rssMiB - base.rssMiB) * 1024) / Math.max(1, result.connected)).toFixed(1)} KiB per connection), ` +
      `CPU ${((100 * (b.cpuMs - a.cpuMs)) / IDLE_WINDOW_MS).toFixed(1)}% of one core over ${IDLE_WINDOW_MS / 1000} s; ` +
      `server holds ${fds} file descriptors of its limit ${serverLimit?.soft ?? '?'}; ` +
      `client errors ${report.errors}, unexpected closes ${report.closedUnexpectedly}; ` +
      `server refusals logged: ${refused.length === 0 ? 'none' : `${dropped} in ${refused.length} reports`}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );
} finally {
  await fleet.stop();
  await server.stop();
  server.cleanup();
}
