/** Starting and gracefully stopping HTTP listeners. */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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

export function listen(app: HttpApp, host: string, port: number, tls?: TlsFiles): Promise<Listener> {
  const server: Server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key }, app.koa.callback())
    : createServer(app.koa.callback());
  // Long-polling /sync holds requests open for minutes; the defaults would cut them off.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
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
