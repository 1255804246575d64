/** Assembles and runs a server from a validated config; used by `comet start` and by tests. */
import { createAppContext, type AppContext } from './app-context.js';
import { clientApiRoutes } from './client-api/index.js';
import type { Config } from './config/config.js';
import { createHttpApp, type HttpApp } from './http/app.js';
import { type Listener, listen, stopListener } from './http/listen.js';
import { loadOrCreateSigningKey } from './keys/signing-key-file.js';
import type { Logger } from './logger.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { WsSyncServer } from './ws-sync/ws-server.js';

export interface RunningServer {
  app: AppContext;
  http: HttpApp;
  client: Listener;
  /** WebSocket sync on the client listener. */
  ws: WsSyncServer;
  signingKeyCreated: boolean;
  /** Graceful stop: drain requests (up to shutdown_grace_ms), then close the database. */
  stop(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const { key, created } = loadOrCreateSigningKey(config.signing_key_path);
  const storage = SqliteStorage.open(config.database.path);
  const app = createAppContext({ config, logger, storage, signingKey: key });
  const http = createHttpApp(app, clientApiRoutes);
  const ws = new WsSyncServer(app);
  http.upgrade = (req, socket, head) => ws.handleUpgrade(req, socket, head);
  let client: Listener;
  try {
    client = await listen(http, config.listeners.client.host, config.listeners.client.port);
  } catch (err) {
    await storage.close();
    throw err;
  }
  logger.info({ event: 'listening', listener: 'client', host: client.host, port: client.port }, 'listening');
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ event: 'stopping' }, 'shutting down: draining requests');
      // Wake long-polls so they answer now instead of holding the shutdown for their full timeout.
      app.notifier.close();
      await ws.close(config.shutdown_grace_ms);
      await stopListener(http, client, config.shutdown_grace_ms);
      app.close();
      await storage.close();
      logger.info({ event: 'stopped' }, 'stopped');
    })();
    return stopping;
  };
  return { app, http, client, ws, signingKeyCreated: created, stop };
}
