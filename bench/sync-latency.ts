/**
 * Delivery latency through long-poll /sync: USERS users in one room each hold a /sync long poll open
 * against a real server process (started like the spec-test harness does; this process is only the
 * load generator). One user sends; we time until every one of them has the event, SENDS times.
 * Prints p50/p99 of "all USERS have it" (from the start of the send request) and of single deliveries.
 * Goal (issue 3): p99 ≤ 100 ms. Run: node dist/bench/sync-latency.js
 */
import { Agent, request } from 'node:http';
import { startServer, type TestServer } from '../spec-tests/harness/server.js';

const USERS = Number(process.env.USERS ?? 200);
const SENDS = Number(process.env.SENDS ?? 50);
const OVERALL_DEADLINE_MS = 5 * 60_000;
const PER_SEND_DEADLINE_MS = 10_000;

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

const agent = new Agent({ keepAlive: true, maxSockets: USERS + 20 });
let server: TestServer | undefined;

function http(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      `${server!.baseUrl}${path}`,
      {
        method,
        agent,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

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
  server = await startServer({ config: { shutdown_grace_ms: 500, rate_limits: { send: { per_second: 100_000, burst: 100_000 } } } });
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
  stopped = true;

  console.log(`send request (PUT until 200):                 ${fmt(ackTimes)}`);
  console.log(`all ${USERS} have the event, from send start:      ${fmt(allHave)}`);
  console.log(`all ${USERS} have the event, after the PUT's 200:  ${fmt(fromAck)}`);
  console.log(`single deliveries (${single.length}):             ${fmt(single)}`);
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
  agent.destroy();
  server?.cleanup();
}
