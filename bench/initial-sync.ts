/**
 * Initial /sync of a user in ROOMS rooms with EVENTS events each, against a real server process.
 * Population is OFFLINE, through the server's own engine (Rooms → event pipeline → SQLite storage: the
 * events are built, signed, auth-checked and stored exactly as the HTTP path does) into the data
 * directory the server then opens; over HTTP the 100,000 sends would take over an hour on this machine.
 * Measures: the initial /sync with the default filter and with timeline limit 10 (and lazy members),
 * and the server's RSS before and after. Run: node dist/bench/initial-sync.js (ROOMS=, EVENTS= to scale).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { generateSigningKey } from '../src/core/signing.js';
import { InProcessNotifier } from '../src/notifier.js';
import { Rooms } from '../src/room-engine/rooms.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { startServer, type TestServer } from '../spec-tests/harness/server.js';

const ROOMS = Number(process.env.ROOMS ?? 100);
const EVENTS = Number(process.env.EVENTS ?? 1000);
const OTHERS = 4;
const OVERALL_DEADLINE_MS = 30 * 60_000;
const V3 = '/_matrix/client/v3';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

let server: TestServer | undefined;

async function populate(dbPath: string): Promise<void> {
  const storage = SqliteStorage.open(dbPath);
  // Population only: the bench measures reads, so per-commit fsyncs are skipped while writing.
  storage.db.pragma('synchronous = OFF');
  storage.db.pragma('cache_size = -262144');
  const rooms = new Rooms({
    storage,
    serverName: 'localhost',
    signingKey: generateSigningKey('bench'),
    now: () => Date.now(),
    notifier: new InProcessNotifier(),
    logger: pino({ level: 'silent' }),
  });
  const me = '@me:localhost';
  const others = Array.from({ length: OTHERS }, (_, i) => `@other${i}:localhost`);
  let txn = 0;
  const t0 = performance.now();
  for (let r = 0; r < ROOMS; r++) {
    const id = await rooms.createRoom(me, { preset: 'public_chat', name: `room ${r}` });
    for (const o of others) await rooms.join(o, id, undefined);
    // createRoom and the joins are ~10 events; the rest are messages, so each room has EVENTS events.
    for (let i = 10; i < EVENTS; i++) {
      const sender = i % 2 === 0 ? me : others[i % OTHERS];
      await rooms.sendMessage(id, sender, 'm.room.message', { msgtype: 'm.text', body: `message ${i} in room ${r}` }, { userId: sender, deviceId: 'D', txnId: String(++txn) });
    }
    if ((r + 1) % 10 === 0) console.log(`  populated ${r + 1}/${ROOMS} rooms (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const n = storage.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number };
  console.log(`population: ${n.n} events in ${ROOMS} rooms, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await storage.close();
}

async function api(method: string, path: string, token?: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${server!.baseUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Json;
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** VmRSS of the server process, from /proc. */
function serverRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

async function timeSync(label: string, token: string, filter: object | undefined, runs: number): Promise<void> {
  const q = filter ? `?filter=${encodeURIComponent(JSON.stringify(filter))}` : '';
  const times: number[] = [];
  let size = 0;
  let rooms = 0;
  let events = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await fetch(`${server!.baseUrl}${V3}/sync${q}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`sync: ${res.status} ${text.slice(0, 200)}`);
    size = text.length;
    const body = JSON.parse(text) as Json;
    const joined = Object.values(body.rooms?.join ?? {}) as Json[];
    rooms = joined.length;
    events = joined.reduce((n, r) => n + r.timeline.events.length + r.state.events.length, 0);
  }
  const ms = times.map((t) => t.toFixed(0)).join(', ');
  console.log(`${label}: ${ms} ms (first is cold); ${rooms} rooms, ${events} events, ${(size / 1024).toFixed(0)} KiB`);
}

async function main(): Promise<void> {
  // DATA_DIR reuses a directory populated by an earlier run (population is the slow part).
  const reuse = process.env.DATA_DIR;
  const dir = reuse ?? mkdtempSync(join(tmpdir(), 'comet-bench-'));
  if (reuse) console.log(`reusing the population in ${dir}`);
  else {
    console.log(`populating ${ROOMS} rooms × ${EVENTS} events offline in ${dir}`);
    await populate(join(dir, 'data', 'comet.db'));
  }

  server = await startServer({ dir, config: { shutdown_grace_ms: 500 } });
  const pid = server.pid;
  console.log(`server RSS after start: ${serverRssMb(pid).toFixed(0)} MB`);
  // The user the rooms were created for: the account is new, the memberships are already there.
  const { access_token: token } = reuse
    ? await api('POST', `${V3}/login`, undefined, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'me' }, password: 'bench password' })
    : await api('POST', `${V3}/register`, undefined, { username: 'me', password: 'bench password', auth: { type: 'm.login.dummy' } });
  await timeSync('initial /sync, default filter', token, undefined, 3);
  console.log(`server RSS after default-filter syncs: ${serverRssMb(pid).toFixed(0)} MB`);
  await timeSync('initial /sync, timeline limit 10', token, { room: { timeline: { limit: 10 } } }, 3);
  await timeSync('initial /sync, timeline limit 10, lazy members', token, { room: { timeline: { limit: 10 }, state: { lazy_load_members: true } } }, 3);
  console.log(`server RSS after all syncs: ${serverRssMb(pid).toFixed(0)} MB`);
  await server.stop();
  if (!reuse) server.cleanup();
}

const guard = setTimeout(() => {
  console.error(`bench did not finish within ${OVERALL_DEADLINE_MS / 60_000} min; stopping`);
  void server?.stop('SIGKILL').finally(() => process.exit(1));
}, OVERALL_DEADLINE_MS);
guard.unref();

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
  if (server) {
    console.error('server exit:', JSON.stringify(await Promise.race([server.exited, server.stop('SIGKILL')])));
    console.error(`last server output:\n${server.output.slice(-20).join('\n')}\nstderr:\n${server.stderr().slice(-4000)}`);
    console.error(`data kept in ${server.dir} (rerun with DATA_DIR=${server.dir})`);
  }
}
