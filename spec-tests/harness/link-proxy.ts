/**
 * A loopback TCP relay standing between two federating servers, so a test can cut the link
 * between two live processes: one server's `federation.resolve` names the relay for the other
 * server, and `cut()` drops every relayed connection and refuses new ones until `heal()`. TLS
 * passes through untouched (the relay only copies bytes), so certificates are still verified
 * end to end.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface LinkProxy {
  readonly port: number;
  /** Where connections go (the real federation port of the far server). */
  setTarget(port: number): void;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startLinkProxy(): Promise<LinkProxy> {
  let target = 0;
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open || target === 0) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    port,
    setTarget: (p) => {
      target = p;
    },
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    heal: () => {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
