/**
 * Delivery latency through long-poll /sync: USERS users in one room each hold a /sync long poll open
 * against a real server process (started like the spec-test harness does; this process is only the
 * load generator). One user sends; we time until every one of them has the event, SENDS times.
 * Prints p50/p99 of "all USERS have it" (from the start of the send request) and of single deliveries.
 * Goal (issue 3): p99 ≤ 100 ms. Also prints the server's CPU time per woken /sync (the server's CPU
 * over the send phase divided by the deliveries; the sends themselves are included, so it is an upper bound).
 * Run: node dist/bench/sync-latency.js
 * (SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.)
 */
import { startServer, type TestServer } from '../spec-tests/harness/server.js';
import { cpuMs, LoadClient, type Reply } from './load-client.js';

const USERS = Number(process.env.USERS ?? 200);
const SENDS = Number(process.env.SENDS ?? 50);
const OVERALL_DEADLINE_MS = 5 * 60_000;
const PER_SEND_DEADLINE_MS = 10_000;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

let server: TestServer | undefined;
let client: LoadClient | undefined;

const http = (method: string, path: string, token?: string, body?: unknown): Promise<Reply> => client!.request(method, path, token, body);

async function ok(method: string, path: string, token?: string, body?: unknown): Promise<Json> {
  const res = await http(method, path, token, body);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function inBatches<T>(items: T[], size: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map((x, j) => f(x, i + j)));
}

const V3 = '/_matrix/client/v3';
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

async function main(): Promise<void> {
  server = await startServer({
    config: { shutdown_grace_ms: 500, rate_limits: { send: { per_second: 100_000, burst: 100_000 } } },
    nodeArgs: process.env.SERVER_NODE_ARGS?.split(' ').filter((a) => a !== ''),
  });
  client = new LoadClient(server.baseUrl, USERS + 20);
  console.log(`server at ${server.baseUrl}; ${USERS} users, ${SENDS} sends`);

  const tokens: string[] = new Array(USERS);
  const t = performance.now();
  await inBatches([...Array(USERS).keys()], 20, async (i) => {
    const body = await ok('POST', `${V3}/register`, undefined, { username: `u${i}`, password: 'bench password', auth: { type: 'm.login.dummy' } });
    tokens[i] = body.access_token;
  });
  const sender = (await ok('POST', `${V3}/register`, undefined, { username: 'sender', password: 'bench password', auth: { type: 'm.login.dummy' } })).access_token;
  const { room_id: roomId } = await ok('POST', `${V3}/createRoom`, sender, { preset: 'public_chat', name: 'latency' });
  const room = encodeURIComponent(roomId);
  for (const token of tokens) await ok('POST', `${V3}/rooms/${room}/join`, token, {});
  console.log(`set-up (register ${USERS + 1}, create, ${USERS} joins): ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // Each listener: initial sync for a token, then long polls until stopped, recording arrivals.
  const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 5 }, state: { lazy_load_members: true } } }));
  const arrivals: Map<string, number>[] = tokens.map(() => new Map());
  const polling: boolean[] = tokens.map(() => false);
  let stopped = false;
  let wake: (() => void) | undefined;
  const since: string[] = await Promise.all(tokens.map(async (tk) => (await ok('GET', `${V3}/sync?filter=${filter}&timeout=0`, tk)).next_batch));
  const loops = tokens.map(async (tk, i) => {
    while (!stopped) {
      polling[i] = true;
      wake?.();
      const body = await ok('GET', `${V3}/sync?filter=${filter}&timeout=30000&since=${encodeURIComponent(since[i])}`, tk);
      const now = performance.now();
      polling[i] = false;
      since[i] = body.next_batch;
      for (const e of body.rooms?.join?.[roomId]?.timeline?.events ?? []) {
        if (e.type === 'm.room.message' && typeof e.content?.body === 'string') arrivals[i].set(e.content.body, now);
      }
      wake?.();
    }
  });
  const until = (cond: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), PER_SEND_DEADLINE_MS);
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      wake = check;
      check();
    });

  const allHave: number[] = [];
  const fromAck: number[] = [];
  const single: number[] = [];
  const ackTimes: number[] = [];
  const cpu0 = cpuMs(server.pid);
  for (let s = 0; s < SENDS; s++) {
    // Every listener must be parked in a long poll before the send, or we'd time a re-poll instead.
    await until(() => polling.every(Boolean), 'every listener to be polling');
    const body = `ping ${s}`;
    const t0 = performance.now();
    await ok('PUT', `${V3}/rooms/${room}/send/m.room.message/p${s}`, sender, { msgtype: 'm.text', body });
    const tAck = performance.now();
    await until(() => arrivals.every((a) => a.has(body)), `all ${USERS} to receive "${body}"`);
    const times = arrivals.map((a) => a.get(body)! - t0);
    allHave.push(Math.max(...times));
    fromAck.push(Math.max(0, Math.max(...times) - (tAck - t0)));
    ackTimes.push(tAck - t0);
    single.push(...times);
  }
  const cpuPerSync = (cpuMs(server.pid) - cpu0) / (SENDS * USERS);
  stopped = true;

  console.log(`send request (PUT until 200):                 ${fmt(ackTimes)}`);
  console.log(`all ${USERS} have the event, from send start:      ${fmt(allHave)}`);
  console.log(`all ${USERS} have the event, after the PUT's 200:  ${fmt(fromAck)}`);
  console.log(`single deliveries (${single.length}):             ${fmt(single)}`);
  console.log(`server CPU per woken /sync (incl. the sends): ${(cpuPerSync * 1000).toFixed(0)} µs`);
  console.log(`goal p99 ≤ 100 ms (all ${USERS}, from send start): ${pct(allHave, 99) <= 100 ? 'met' : 'NOT met'}`);

  // The listeners' last long polls end when the server stops.
  await server.stop();
  await Promise.allSettled(loops);
}

const guard = setTimeout(() => {
  console.error(`bench did not finish within ${OVERALL_DEADLINE_MS / 1000} s; stopping`);
  void server?.stop('SIGKILL').finally(() => process.exit(1));
}, OVERALL_DEADLINE_MS);
guard.unref();

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
  await server?.stop('SIGKILL');
} finally {
  client?.close();
  server?.cleanup();
}
