/**
 * Messages persisted per second through the client API: PUT /rooms/{id}/send/m.room.message/{txn}
 * against a real server process (`node bin/comet.js start`, SQLite with synchronous=FULL), each
 * event built, signed, hashed, auth-checked and committed before its 200. The load runs in this
 * process over keep-alive connections. Scenarios: 1 sender; 50 concurrent senders in one room;
 * 50 concurrent senders each in their own room. Prints the median of several runs and the
 * server's RSS. Run: node dist/bench/send.js [runs] [--tmpfs]
 * --tmpfs puts the database on /dev/shm, where fsync costs nothing: NOT a durable setup, only a
 * way to see the CPU-bound ceiling when the disk is slow or shared.
 * (SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.)
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../spec-tests/harness/server.js';
import { type BenchUser, cpuMs, fmt, LoadClient, median, register, rssMb } from './load-client.js';

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const TMPFS = args.includes('--tmpfs');
const SINGLE_MESSAGES = 400;
const SENDERS = 50;
const MESSAGES_PER_SENDER = 60;

const server = await startServer({
  dir: TMPFS ? mkdtempSync(join('/dev/shm', 'comet-bench-')) : undefined,
  nodeArgs: process.env.SERVER_NODE_ARGS?.split(' ').filter((a) => a !== ''),
  config: {
    // The access log stays on (info), as in production; the limiter must not throttle the load.
    rate_limits: { send: { per_second: 1_000_000, burst: 1_000_000 } },
  },
});
const client = new LoadClient(server.baseUrl, SENDERS + 8);
let txn = 0;

async function createRoom(user: BenchUser): Promise<string> {
  const r = await client.ok('POST', '/_matrix/client/v3/createRoom', user.token, { preset: 'public_chat' });
  return r.body.room_id;
}

function send(user: BenchUser, roomId: string): Promise<unknown> {
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`;
  return client.ok('PUT', path, user.token, { msgtype: 'm.text', body: `message ${txn} from ${user.userId}` });
}

/**
 * Each sender sends `count` messages one after another, all senders at once. Returns messages/s
 * and the server's CPU time per message (steadier than wall time on a busy machine).
 */
async function run(pairs: ReadonlyArray<[BenchUser, string]>, count: number): Promise<{ rate: number; cpuUs: number }> {
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  await Promise.all(
    pairs.map(async ([user, roomId]) => {
      for (let i = 0; i < count; i++) await send(user, roomId);
    }),
  );
  const n = pairs.length * count;
  return { rate: (n * 1000) / (performance.now() - t0), cpuUs: ((cpuMs(server.pid) - cpu0) * 1000) / n };
}

async function scenario(label: string, pairs: ReadonlyArray<[BenchUser, string]>, count: number): Promise<void> {
  await run(pairs, Math.max(2, count / 10)); // warm-up
  const rates: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run(pairs, count);
    rates.push(r.rate);
    cpu.push(r.cpuUs);
  }
  const runs = rates.map((r) => fmt(r)).join(', ');
  console.log(
    `${label}: median ${fmt(median(rates))} msg/s (runs: ${runs}); server CPU ${fmt(median(cpu))} µs/msg; ` +
      `server RSS ${fmt(rssMb(server.pid), 1)} MB`,
  );
}

try {
  const users: BenchUser[] = [];
  for (let i = 0; i < SENDERS; i++) users.push(await register(client, `bench${i}`));
  const shared = await createRoom(users[0]);
  for (const u of users.slice(1)) await client.ok('POST', `/_matrix/client/v3/join/${encodeURIComponent(shared)}`, u.token, {});
  const own: Array<[BenchUser, string]> = [];
  for (const u of users) own.push([u, await createRoom(u)]);
  if (TMPFS) console.log('database on /dev/shm (not durable; CPU-bound ceiling only)');
  console.log(`server pid ${server.pid}, RSS after setup ${fmt(rssMb(server.pid), 1)} MB; ${RUNS} runs per scenario`);

  await scenario(`1 sender, 1 room (${SINGLE_MESSAGES} msgs)`, [[users[0], shared]], SINGLE_MESSAGES);
  await scenario(
    `${SENDERS} senders, 1 room (${SENDERS}×${MESSAGES_PER_SENDER})`,
    users.map((u) => [u, shared]),
    MESSAGES_PER_SENDER,
  );
  await scenario(`${SENDERS} senders, ${SENDERS} rooms (${SENDERS}×${MESSAGES_PER_SENDER})`, own, MESSAGES_PER_SENDER);
} finally {
  client.close();
  await server.stop();
  server.cleanup();
}
