/** Starting and gracefully stopping HTTP listeners. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpApp } from './app.js';

export interface Listener {
  server: Server;
  host: string;
  port: number;
}

export function listen(app: HttpApp, host: string, port: number): Promise<Listener> {
  const server = createServer(app.koa.callback());
  // Long-polling /sync holds requests open for minutes; the defaults would cut them off.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  server.on('upgrade', (req, socket, head) => {
    if (app.upgrade && !app.draining) app.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
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
