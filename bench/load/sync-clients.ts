/**
 * A load-generator process (forked by the benches, talks to its parent over IPC): holds many sync
 * connections, WebSocket or long-poll, from one source address, and records for every timeline
 * message carrying a `ts` how long after that time it arrived.
 *
 * Parent → child: {cmd:'start', ...StartArgs}, {cmd:'go'} (start typing), {cmd:'report'}, {cmd:'exit'}.
 * Child → parent: {type:'ready', connected, errors}, {type:'report', latencies, errors, ...}.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { RawHttpConnection } from './raw-http.js';

export interface StartArgs {
  mode: 'ws' | 'longpoll';
  baseUrl: string;
  tokens: string[];
  localAddress: string;
  /** Inline filter JSON for every connection. */
  filter?: string;
  /** `set_presence` for every connection (default: online, the server's default). */
  setPresence?: 'online' | 'unavailable' | 'offline';
  /** Connections opened at once while connecting. */
  concurrency?: number;
  /** WebSocket mode: each connection flips its typing state in this room every `everyMs`. */
  typing?: { roomId: string; everyMs: number };
}

const WS_PATH = '/_matrix/client/unstable/org.comet.ws';
const LONG_POLL_MS = 300_000;

const latencies: number[] = [];
/**
 * How late this process's event loop runs, from when every connection is open: a delivery waits
 * that long in the client before it is parsed, so it bounds what the latencies owe to the load
 * generator rather than the server.
 */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
let mode: StartArgs['mode'] = 'ws';
let errors = 0;
/** The first few distinct error messages, for the report. */
const errorKinds = new Set<string>();
function noteError(err: unknown): void {
  errors++;
  if (errorKinds.size < 5) errorKinds.add(String((err as Error)?.message ?? err));
}
let closedUnexpectedly = 0;
let frames = 0;
let typingEvents = 0;
let typingSent = 0;
const timers: NodeJS.Timeout[] = [];
/** Typing starts on the parent's 'go', once every process has all its connections open. */
const typists: Array<() => void> = [];
let stopping = false;
const sockets: WebSocket[] = [];
const connections: RawHttpConnection[] = [];

// biome-ignore lint/suspicious/noExplicitAny: raw sync JSON
function record(body: any): void {
  frames++;
  const now = Date.now();
  for (const room of Object.values(body?.rooms?.join ?? {})) {
    // biome-ignore lint/suspicious/noExplicitAny: raw sync JSON
    const r = room as any;
    for (const ev of r.timeline?.events ?? []) {
      if (typeof ev.content?.ts === 'number') latencies.push(now - ev.content.ts);
    }
    for (const ev of r.ephemeral?.events ?? []) if (ev.type === 'm.typing') typingEvents++;
  }
}

function openWs(args: StartArgs, token: string): Promise<void> {
  const url = new URL(WS_PATH, args.baseUrl.replace(/^http/, 'ws'));
  if (args.filter) url.searchParams.set('filter', args.filter);
  if (args.setPresence) url.searchParams.set('set_presence', args.setPresence);
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, localAddress: args.localAddress, perMessageDeflate: false });
    let first = true;
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type !== 'sync') return;
      if (first) {
        first = false;
        if (args.typing) typists.push(() => startTyping(ws, args.typing!.roomId, args.typing!.everyMs));
        resolve();
        return; // the initial sync: nothing to time
      }
      record(frame.body);
    });
    ws.on('error', (err) => {
      noteError(err);
      resolve();
    });
    ws.on('close', () => {
      if (!stopping) closedUnexpectedly++;
      resolve();
    });
    sockets.push(ws);
  });
}

function startTyping(ws: WebSocket, roomId: string, everyMs: number): void {
  let typing = false;
  let n = 0;
  // Staggered start so the flips are spread over the period rather than synchronised.
  const go = () => {
    typing = !typing;
    typingSent++;
    ws.send(JSON.stringify({ type: 'typing', request_id: `t${++n}`, room_id: roomId, typing, timeout: 30_000 }));
  };
  timers.push(setTimeout(() => timers.push(setInterval(go, everyMs)), Math.random() * everyMs));
}

/** One long-polling client: an initial sync, then /sync?since=…&timeout=… in a loop, on one connection. */
function longPoll(args: StartArgs, token: string): Promise<void> {
  const base = new URL(args.baseUrl);
  const conn = new RawHttpConnection(base.hostname, Number(base.port), args.localAddress);
  connections.push(conn);
  const query = new URLSearchParams();
  if (args.filter) query.set('filter', args.filter);
  if (args.setPresence) query.set('set_presence', args.setPresence);
  const path = `/_matrix/client/v3/sync?${query}`;
  const headers = `Authorization: Bearer ${token}\r\n`;
  return new Promise((resolve) => {
    (async () => {
      let since: string | undefined;
      while (!stopping) {
        try {
          const url = since === undefined ? `${path}&timeout=0` : `${path}&timeout=${LONG_POLL_MS}&since=${encodeURIComponent(since)}`;
          const res = await conn.get(url, headers);
          if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
          const body = JSON.parse(res.body);
          if (since === undefined) resolve();
          else record(body);
          since = body.next_batch;
        } catch (err) {
          if (stopping) return;
          noteError(err);
          resolve();
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  });
}

async function start(args: StartArgs): Promise<void> {
  mode = args.mode;
  const concurrency = args.concurrency ?? 200;
  let next = 0;
  const worker = async () => {
    while (next < args.tokens.length) {
      const token = args.tokens[next++];
      await (args.mode === 'ws' ? openWs(args, token) : longPoll(args, token));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  loopDelay.enable();
  process.send!({ type: 'ready', connected: args.tokens.length - errors, errors, errorKinds: [...errorKinds] });
}

process.on('message', (msg: { cmd: string } & StartArgs) => {
  if (msg.cmd === 'start') void start(msg);
  else if (msg.cmd === 'go') {
    for (const t of typists) t();
  } else if (msg.cmd === 'report') {
    for (const t of timers) clearInterval(t);
    loopDelay.disable();
    const loopDelayMs = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    process.send!({ type: 'report', mode, latencies, errors, closedUnexpectedly, frames, typingEvents, typingSent, loopDelayMs });
  } else if (msg.cmd === 'exit') {
    stopping = true;
    for (const ws of sockets) ws.terminate();
    for (const c of connections) c.close();
    process.exit(0);
  }
});
