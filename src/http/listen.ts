/** Starting and gracefully stopping HTTP listeners. */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HttpApp } from './app.js';

export interface Listener {
  server: Server;
  host: string;
  port: number;
}

/** PEM certificate chain and private key: the listener then serves HTTPS. */
export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export function listen(app: HttpApp, host: string, port: number, tls?: TlsFiles, headersTimeoutMs = 30_000): Promise<Listener> {
  // Node checks header deadlines on a sweep; sweep often enough that a short limit is honoured.
  const options = { connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(headersTimeoutMs / 4))) };
  const server: Server = tls
    ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, app.handle)
    : createServer(options, app.handle);
  // Long-polling /sync holds requests open for minutes; the defaults would cut them off. Headers
  // still have a deadline of their own: requestTimeout 0 does not lift headersTimeout.
  server.requestTimeout = 0;
  server.headersTimeout = headersTimeoutMs;
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerClientError);
  server.on('upgrade', (req, socket, head) => {
    if (app.upgrade && !app.draining) app.upgrade(req, socket, head);
    else socket.end(rawJsonResponse(404, 'Not Found', 'M_UNRECOGNIZED', 'No WebSocket endpoint here'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({ server, host, port: addr.port });
    });
  });
}

/**
 * Requests Node's HTTP parser rejects (a body that ends before its Content-Length, a malformed
 * Content-Length, oversized headers) never reach the app; answer them with a Matrix error body too,
 * unless a response is already under way on the socket.
 */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request line or headers too large'],
  // headersTimeout passed before the client finished its headers.
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'Request headers not received in time'],
};

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, error] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'Malformed HTTP request'];
  socket.end(rawJsonResponse(status, reason, 'M_UNKNOWN', `${error} (${err.code ?? 'parse error'})`));
}

/** A complete HTTP/1.1 error response with a Matrix JSON body, for sockets outside the request pipeline (parse errors, upgrades). */
export function rawJsonResponse(status: number, reason: string, errcode: string, error: string, headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ errcode, error });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`
  );
}

/**
 * Stops accepting connections, lets in-flight requests finish until `graceMs`, then cuts whatever is
 * left. Resolves once the server is fully closed.
 */
export function stopListener(app: HttpApp, listener: Listener, graceMs: number): Promise<void> {
  app.draining = true;
  const { server } = listener;
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(deadline);
      resolve();
    });
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
}
