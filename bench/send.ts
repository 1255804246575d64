/**
 * Messages persisted per second through the client API: PUT /rooms/{id}/send/m.room.message/{txn}
 * against a real server process (`node bin/comet.js start`, SQLite with synchronous=FULL), each
 * event built, signed, hashed, auth-checked and committed before its 200. The load runs in this
 * process over keep-alive connections. Scenarios: 1 sender; 50 concurrent senders in one room;
 * 50 concurrent senders each in their own room. Prints the median of several runs and the
 * server's RSS. Run: node dist/bench/send.js [runs]
 * (SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.)
 */
import { startServer } from '../spec-tests/harness/server.js';
import { type BenchUser, fmt, LoadClient, median, register, rssMb } from './load-client.js';

const RUNS = Number(process.argv[2] ?? 5);
const SINGLE_MESSAGES = 400;
const SENDERS = 50;
const MESSAGES_PER_SENDER = 60;

const server = await startServer({
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

/** Each sender sends `count` messages one after another, all senders at once; returns messages/s. */
async function run(pairs: ReadonlyArray<[BenchUser, string]>, count: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    pairs.map(async ([user, roomId]) => {
      for (let i = 0; i < count; i++) await send(user, roomId);
    }),
  );
  return (pairs.length * count * 1000) / (performance.now() - t0);
}

async function scenario(label: string, pairs: ReadonlyArray<[BenchUser, string]>, count: number): Promise<void> {
  await run(pairs, Math.max(2, count / 10)); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) rates.push(await run(pairs, count));
  const runs = rates.map((r) => fmt(r)).join(', ');
  console.log(`${label}: median ${fmt(median(rates))} msg/s (runs: ${runs}); server RSS ${fmt(rssMb(server.pid), 1)} MB`);
}

try {
  const users: BenchUser[] = [];
  for (let i = 0; i < SENDERS; i++) users.push(await register(client, `bench${i}`));
  const shared = await createRoom(users[0]);
  for (const u of users.slice(1)) await client.ok('POST', `/_matrix/client/v3/join/${encodeURIComponent(shared)}`, u.token, {});
  const own: Array<[BenchUser, string]> = [];
  for (const u of users) own.push([u, await createRoom(u)]);
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
