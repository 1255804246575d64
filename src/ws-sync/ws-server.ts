/**
 * WebSocket sync on the client listener (docs/websocket-sync.md): accepts upgrades at
 * WS_SYNC_PATH, owns the connections, pings them from one shared wheel, closes a user's
 * connections when their device is deleted or the account deactivated, and closes everything
 * (1001) at shutdown.
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { AppContext } from '../app-context.js';
import { type HttpError, invalidParam, MatrixError, unknownToken, unrecognized } from '../http/errors.js';
import { rawJsonResponse } from '../http/listen.js';
import { CloseCode, WS_SYNC_PATH } from './frames.js';
import { TickWheel } from './tick-wheel.js';
import { type ConnectionHost, WsConnection } from './ws-connection.js';

export class WsSyncServer implements ConnectionHost {
  readonly maxBufferedBytes: number;
  readonly authTimeoutMs: number;
  readonly maxPendingRequests: number;
  private readonly wss: WebSocketServer;
  private readonly wheel: TickWheel<WsConnection>;
  private readonly all = new Set<WsConnection>();
  private readonly byUser = new Map<string, Set<WsConnection>>();
  private readonly drained: Array<() => void> = [];
  private closing = false;

  constructor(readonly app: AppContext) {
    const cfg = app.config.websocket;
    this.maxBufferedBytes = cfg.max_buffered_bytes;
    this.authTimeoutMs = cfg.auth_timeout_ms;
    this.maxPendingRequests = cfg.max_pending_requests;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: app.config.max_request_body_bytes,
      // Compression would cost a zlib context per connection; sync frames go out uncompressed.
      perMessageDeflate: false,
      clientTracking: false,
    });
    // A malformed handshake gets the spec's JSON error body like every other endpoint, not ws's plain text.
    this.wss.on('wsClientError', (err: Error, socket: Duplex) => refuseUpgrade(socket, handshakeError(err.message)));
    this.wheel = new TickWheel(cfg.heartbeat_interval_ms, (conn) => conn.heartbeat(app.clock.now()));
    this.wheel.start();
    app.hooks.devicesDeleted.on((userId, deviceIds) => {
      const gone = new Set(deviceIds);
      for (const conn of this.byUser.get(userId) ?? []) {
        if (gone.has(conn.requester!.deviceId)) conn.fail(CloseCode.unauthorized, unknownToken(false, 'Device logged out'));
      }
    });
    app.hooks.userDeactivated.on((userId) => {
      for (const conn of this.byUser.get(userId) ?? []) conn.fail(CloseCode.unauthorized, unknownToken(false, 'Account deactivated'));
    });
  }

  /** Open connections (authenticated or not). */
  get size(): number {
    return this.all.size;
  }

  /** The listener's upgrade handler. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WS_SYNC_PATH) {
      refuseUpgrade(socket, unrecognized(404, 'No WebSocket endpoint at this path'));
      return;
    }
    if (this.closing) {
      refuseUpgrade(socket, new MatrixError(503, 'M_UNKNOWN', 'The server is shutting down'));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new WsConnection(this, ws, req);
      this.all.add(conn);
      conn.slot = this.wheel.add(conn);
    });
  }

  attach(conn: WsConnection): void {
    const userId = conn.userId!;
    const set = this.byUser.get(userId);
    if (set) set.add(conn);
    else this.byUser.set(userId, new Set([conn]));
  }

  detach(conn: WsConnection): void {
    this.all.delete(conn);
    this.wheel.remove(conn, conn.slot);
    const userId = conn.userId;
    if (userId !== undefined) {
      const set = this.byUser.get(userId);
      set?.delete(conn);
      if (set?.size === 0) this.byUser.delete(userId);
    }
    if (this.all.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }

  /** Closes every connection with 1001 and waits (up to `graceMs`) for the close handshakes. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.wheel.stop();
    for (const conn of this.all) conn.close(CloseCode.goingAway, 'server shutting down');
    if (this.all.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // Close handshakes that did not finish in time: drop the sockets.
          for (const conn of this.all) conn.terminate();
          resolve();
        }, graceMs);
        this.drained.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.wss.close();
  }
}

/** The error for a handshake `ws` refused (it reports the reason as a message only). */
function handshakeError(message: string): HttpError {
  if (message === 'Invalid HTTP method') return unrecognized(405, 'A WebSocket handshake must be a GET');
  if (message.includes('Sec-WebSocket-Version')) {
    // RFC 6455 4.4: an unsupported version is answered 426 with the versions the server speaks.
    return new MatrixError(426, 'M_INVALID_PARAM', 'Unsupported WebSocket version', undefined, { 'Sec-WebSocket-Version': '13, 8' });
  }
  return invalidParam(`Bad WebSocket handshake: ${message}`);
}

/** Answers an upgrade request with an HTTP error (JSON body) and closes the connection. */
function refuseUpgrade(socket: Duplex, err: HttpError): void {
  if (!socket.writable) return;
  socket.end(rawJsonResponse(err.status, STATUS_CODES[err.status] ?? '', String(err.body.errcode), String(err.body.error), err.headers));
}
