/** A small WebSocket sync client for the spec tests and benches (`ws` package, raw frames kept). */
import { WebSocket } from 'ws';

export const WS_PATH = '/_matrix/client/unstable/org.comet.ws';

// biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON
export type Frame = any;

export interface WsConnectOptions {
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  /** URL query: since, filter, set_presence, full_state. */
  query?: Record<string, string>;
  /** Sent as the first frame (browser style) once open. */
  authFrame?: Record<string, unknown>;
}

export class WsSyncClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];
  private listeners: Array<(f: Frame) => void> = [];
  private nextId = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      for (const l of this.listeners) l(frame);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('error', () => {
      // 'close' follows.
    });
  }

  static connect(baseUrl: string, opts: WsConnectOptions = {}): Promise<WsSyncClient> {
    const url = new URL(WS_PATH, baseUrl.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = new WsSyncClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        if (opts.authFrame) client.sendRaw(JSON.stringify({ type: 'auth', ...opts.authFrame }));
        resolve(client);
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Calls `listener` with every frame from now on, as it arrives. */
  onFrame(listener: (f: Frame) => void): void {
    this.listeners.push(listener);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a request frame with a fresh request_id; resolves with its result or error frame. */
  async request(frame: Record<string, unknown>, timeoutMs = 10_000): Promise<Frame> {
    const id = `r${++this.nextId}`;
    const from = this.frames.length;
    this.send({ ...frame, request_id: id });
    return this.next((f) => (f.type === 'result' || f.type === 'error') && f.request_id === id, timeoutMs, from);
  }

  /** The first frame (at index `from` or later) matching `pred`; rejects on timeout or close. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 10_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(pred);
      if (found) return found;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The sync bodies received so far. */
  syncBodies(): Frame[] {
    return this.frames.filter((f) => f.type === 'sync').map((f) => f.body);
  }

  /** The next_batch of the latest sync frame. */
  lastToken(): string | undefined {
    return this.syncBodies().at(-1)?.next_batch;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000);
    return this.closed;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Message bodies in a sync body's timeline for `roomId`, in order. */
export function timelineBodies(body: Frame, roomId: string): string[] {
  const events: Frame[] = body?.rooms?.join?.[roomId]?.timeline?.events ?? [];
  return events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
}
