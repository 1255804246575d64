/**
 * One WebSocket sync connection: authentication (Authorization header or auth frame), the sync
 * loop (the long-poll loop of SyncEngine with no timeout, so each delta is pushed as soon as it
 * exists), request frames answered in order, heartbeats and the bounded send buffer.
 *
 * Kept small on purpose (20,000 of these must fit in little memory): no timers (the server's
 * shared wheel calls `heartbeat`), no copies of sync bodies once they are handed to the socket.
 */
import type { IncomingMessage } from 'node:http';
import { type RawData, WebSocket } from 'ws';
import type { AppContext } from '../app-context.js';
import { hashToken } from '../accounts/tokens.js';
import { syncFilterParam } from '../client-api/sync/filter-param.js';
import type { JsonObject } from '../core/json.js';
import { type AuthRequest, authenticate, extractAccessToken } from '../http/auth.js';
import { badJson, HttpError, invalidParam, limitExceeded, missingToken, notJson, unknownError, unknownToken, unrecognized } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import { parseOrThrow } from '../http/validation.js';
import { WaitAborter } from '../notifier.js';
import type { Filter } from '../sync/filter.js';
import { parseSyncToken, type SyncToken } from '../sync/sync-token.js';
import { authFrame, CloseCode, errorFrame, isRequestType, resultFrame, type SyncParams, syncFrameText, syncParams } from './frames.js';
import { handleRequest, parseRequest } from './ws-requests.js';

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly app: AppContext;
  readonly maxBufferedBytes: number;
  readonly authTimeoutMs: number;
  readonly maxPendingRequests: number;
  /** Called once the connection is authenticated (index it by user). */
  attach(conn: WsConnection): void;
  /** Called once when the socket has closed. */
  detach(conn: WsConnection): void;
}

type State = 'awaiting-auth' | 'authenticating' | 'open' | 'closing' | 'closed';

/** Frames carry JSON: text frames, also when handed to ws as bytes. */
const TEXT_FRAME = { binary: false };

export class WsConnection {
  state: State = 'awaiting-auth';
  requester: Requester | undefined;
  /** Set by the server's tick wheel. */
  slot = 0;
  private readonly openedAt: number;
  private alive = true;
  private expiresTs: number | null = null;
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly abort = new WaitAborter();
  /** The to-device position the client acknowledged (its connect token, then `ack` frames). */
  private toDeviceAck = 0;
  /** The to-device position of the last sync frame sent. */
  private toDeviceSent = 0;
  /** This connection told the presence tracker it opened (and so must tell it when it closes), and whether as idle. */
  private presenceOpen: { idle: boolean } | undefined;

  constructor(
    private readonly host: ConnectionHost,
    private readonly ws: WebSocket,
    req: IncomingMessage,
  ) {
    this.openedAt = host.app.clock.now();
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', () => {
      // Protocol errors close the socket; 'close' follows and does the cleanup.
    });
    ws.once('close', () => this.onClose());

    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const authReq: AuthRequest = {
      get: (h) => {
        const v = req.headers[h.toLowerCase()];
        return typeof v === 'string' ? v : '';
      },
      query,
      ip: req.socket.remoteAddress ?? '',
    };
    if (req.headers.authorization !== undefined || query.access_token !== undefined) {
      this.state = 'authenticating';
      this.enqueue(() => this.authenticate(authReq, query));
    }
  }

  get userId(): string | undefined {
    return this.requester?.userId;
  }

  /** Called by the server's wheel once per heartbeat period. */
  heartbeat(now: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'awaiting-auth' && now - this.openedAt >= this.host.authTimeoutMs) {
      this.fail(CloseCode.authTimeout, missingToken(), 'no auth frame in time');
      return;
    }
    if (this.state === 'open' && this.expiresTs !== null && this.expiresTs <= now) {
      this.fail(CloseCode.unauthorized, unknownToken(true, 'Access token has expired'));
      return;
    }
    if (!this.alive) {
      // No pong since the last ping: the peer is gone without a close handshake.
      this.host.app.logger.info({ event: 'ws_dead_peer', user: this.userId }, 'websocket peer stopped answering pings; dropped');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  /** Closes with a code and a short reason (at most 123 bytes on the wire). */
  close(code: number, reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.abort.abort();
    this.host.app.logger.info({ event: 'ws_close', code, reason, user: this.userId }, 'closing websocket');
    this.ws.close(code, reason.slice(0, 120));
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Sends the error as an error frame, then closes with `code` and the errcode as the reason. */
  fail(code: number, err: HttpError, reason?: string): void {
    this.send(errorFrame(null, err.body));
    this.close(code, reason ?? String(err.body.errcode ?? 'error'));
  }

  // ---- incoming frames ----

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.state === 'closing' || this.state === 'closed') return;
    if (isBinary) {
      this.send(errorFrame(null, notJson('Frames must be JSON text').body));
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      this.send(errorFrame(null, notJson('Frame is not valid JSON').body));
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      this.send(errorFrame(null, badJson('Frame must be a JSON object').body));
      return;
    }
    const f = frame as Record<string, unknown>;
    const reqId = typeof f.request_id === 'string' ? f.request_id : null;
    if (f.type === 'ping') {
      this.send(reqId === null ? { type: 'pong' } : { type: 'pong', request_id: reqId });
      return;
    }
    if (this.state === 'awaiting-auth') {
      if (f.type !== 'auth') {
        this.fail(CloseCode.unauthorized, missingToken());
        return;
      }
      this.state = 'authenticating';
      this.enqueue(() => this.authFromFrame(f));
      return;
    }
    if (f.type === 'auth') {
      this.send(errorFrame(reqId, badJson('Already authenticated').body));
      return;
    }
    if (!isRequestType(f.type)) {
      this.send(errorFrame(reqId, unrecognized(404, `Unknown frame type ${JSON.stringify(f.type ?? null)}`).body));
      return;
    }
    if (this.pending >= this.host.maxPendingRequests) {
      this.send(errorFrame(reqId, limitExceeded(100).body));
      return;
    }
    const type = f.type;
    this.enqueue(async () => {
      if (this.state !== 'open' || !this.requester) return;
      try {
        const frame = parseRequest(type, f);
        if (frame.type === 'ack') await this.acknowledge(frame.next_batch);
        const body = await handleRequest(this.host.app, this.requester, frame);
        this.send(resultFrame(reqId ?? '', body));
      } catch (err) {
        this.send(errorFrame(reqId, this.errorBody(err)));
      }
    });
  }

  /** Runs request handling strictly in arrival order (a client's sends land in the order it sent them). */
  private enqueue(task: () => Promise<void>): void {
    this.pending++;
    this.queue = this.queue
      .then(task)
      .catch((err: unknown) => {
        this.host.app.logger.error({ err, user: this.userId }, 'websocket connection failed');
        this.close(CloseCode.internalError, 'M_UNKNOWN');
      })
      .finally(() => {
        this.pending--;
      });
  }

  private errorBody(err: unknown): JsonObject {
    if (err instanceof HttpError) return err.body;
    this.host.app.logger.error({ err, user: this.userId }, 'websocket request failed');
    return unknownError().body;
  }

  // ---- authentication ----

  private async authFromFrame(frame: Record<string, unknown>): Promise<void> {
    let parsed: ReturnType<typeof authFrame.parse>;
    try {
      parsed = parseOrThrow(authFrame, frame, 'body');
    } catch (err) {
      this.fail(CloseCode.badRequest, err instanceof HttpError ? err : badJson('Malformed auth frame'));
      return;
    }
    const token = parsed.access_token;
    const authReq: AuthRequest = {
      get: (h) => (h.toLowerCase() === 'authorization' ? `Bearer ${token}` : ''),
      query: {},
      ip: this.remoteIp(),
    };
    await this.authenticate(authReq, parsed);
  }

  private remoteIp(): string {
    return (this.ws as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress ?? '';
  }

  private async authenticate(authReq: AuthRequest, rawParams: unknown): Promise<void> {
    if (this.state !== 'authenticating') return;
    const { app } = this.host;
    let requester: Requester;
    try {
      requester = (await authenticate(app, authReq, 'required')) as Requester;
    } catch (err) {
      this.fail(CloseCode.unauthorized, err instanceof HttpError ? err : unknownToken());
      return;
    }
    const token = extractAccessToken(authReq);
    const info = token === undefined ? undefined : await app.storage.devices.getAccessToken(hashToken(token));
    this.expiresTs = info?.expiresTs ?? null;

    let since: SyncToken | undefined;
    let filter: Filter;
    let fullState: boolean;
    let presence: SyncParams['set_presence'];
    try {
      const params: SyncParams = parseOrThrow(syncParams, rawParams, 'query');
      since = params.since === undefined ? undefined : parseSyncToken(params.since);
      if (params.since !== undefined && since === undefined) throw invalidParam(`Invalid since token ${params.since}`);
      const filterText = typeof params.filter === 'object' ? JSON.stringify(params.filter) : params.filter;
      filter = await syncFilterParam(filterText, requester.userId, app.storage.filters);
      fullState = params.full_state === true || params.full_state === 'true';
      presence = params.set_presence;
    } catch (err) {
      this.fail(CloseCode.badRequest, err instanceof HttpError ? err : invalidParam('Bad sync parameters'));
      return;
    }
    if (this.state !== 'authenticating') return;
    this.requester = requester;
    this.state = 'open';
    this.host.attach(this);
    // Like a long poll with set_presence: the socket is a connection of this device, unless it asks to stay offline.
    if (presence !== 'offline') {
      this.presenceOpen = { idle: presence === 'unavailable' };
      await app.presence.connectionOpened(requester.userId, requester.deviceId, this.presenceOpen);
      if (this.state !== 'open') return;
    }
    void this.syncLoop(since, filter, fullState);
  }

  /** An `ack` frame: to-device messages up to the token (never past what was sent) may go. */
  private async acknowledge(nextBatch: string): Promise<void> {
    const token = parseSyncToken(nextBatch);
    if (token === undefined) throw invalidParam(`Invalid next_batch ${nextBatch}`);
    const upTo = Math.min(token.toDevice, this.toDeviceSent);
    if (upTo <= this.toDeviceAck) return;
    this.toDeviceAck = upTo;
    await this.host.app.toDevice.acknowledge(this.requester!.userId, this.requester!.deviceId, upTo);
  }

  // ---- the sync loop ----

  private async syncLoop(since: SyncToken | undefined, filter: Filter, fullState: boolean): Promise<void> {
    const { app } = this.host;
    const viewer = { userId: this.requester!.userId, deviceId: this.requester!.deviceId };
    let first = true;
    this.toDeviceAck = since?.toDevice ?? 0;
    try {
      while (this.state === 'open') {
        const next = await this.deliverNext(viewer, since, filter, first, first && fullState);
        if (next === undefined) return;
        first = false;
        since = next;
      }
    } catch (err) {
      app.logger.error({ err, user: viewer.userId }, 'websocket sync failed');
      this.close(CloseCode.internalError, 'M_UNKNOWN');
    }
  }

  /**
   * Waits for the next delta and sends it; its position, or undefined when the loop is over. A
   * call of its own so that nothing of the sent delta stays referenced while the loop waits for
   * the next one: a parked connection holding its last response would carry it through young
   * collections into the old generation, a thousand times per message.
   */
  private async deliverNext(
    viewer: { userId: string; deviceId: string },
    since: SyncToken | undefined,
    filter: Filter,
    first: boolean,
    fullState: boolean,
  ): Promise<SyncToken | undefined> {
    // The first delta answers at once (even if empty: the client learns it is caught up);
    // later ones wait, without a timer, until there is something to say.
    const r = await this.host.app.sync.syncResult({
      viewer,
      since,
      filter,
      fullState,
      timeoutMs: first ? 0 : Number.POSITIVE_INFINITY,
      signal: this.abort,
      toDeviceAck: this.toDeviceAck,
    });
    // An empty answer after a wait means the wait was cut short: closing, or server shutdown.
    if (this.state !== 'open' || (r.empty && !first)) return undefined;
    this.toDeviceSent = r.next.toDevice;
    return this.sendText(syncFrameText(r.response.json())) ? r.next : undefined;
  }

  // ---- outgoing frames ----

  /**
   * Queues a frame. A client that lets more than max_buffered_bytes pile up is closed (4429)
   * rather than allowed to grow server memory; a frame into an empty buffer always goes, so
   * one large sync delta never trips the limit by itself.
   */
  private send(frame: JsonObject): boolean {
    return this.sendText(JSON.stringify(frame));
  }

  private sendText(text: string): boolean {
    if (this.state === 'closed' || this.ws.readyState !== WebSocket.OPEN) return false;
    // Encoded here, once: given a string, ws measures its UTF-8 length and then encodes it again.
    const data = Buffer.from(text);
    const queued = this.ws.bufferedAmount;
    if (queued > 0 && queued + data.length > this.host.maxBufferedBytes) {
      this.close(CloseCode.tooSlow, `M_LIMIT_EXCEEDED: client too slow, over ${this.host.maxBufferedBytes} bytes unsent`);
      return false;
    }
    this.ws.send(data, TEXT_FRAME);
    return true;
  }

  private onClose(): void {
    this.state = 'closed';
    this.abort.abort();
    this.host.detach(this);
    if (this.presenceOpen && this.requester) {
      const { app } = this.host;
      app.presence
        .connectionClosed(this.requester.userId, this.requester.deviceId, this.presenceOpen)
        .catch((err: unknown) => app.logger.error({ err }, 'presence update on websocket close failed'));
    }
  }
}
