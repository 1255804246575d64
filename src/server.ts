/** Assembles and runs a server from a validated config; used by `comet start` and by tests. */
import { readFileSync } from 'node:fs';
import { clientListenerFederationRoutes, federationRoutes } from '../federation/routes/index.js';
import { createAppContext, type AppContext } from './app-context.js';
import { clientApiRoutes } from './client-api/index.js';
import type { Config } from './config/config.js';
import { createHttpApp, type HttpApp } from './http/app.js';
import { connectionBudget, guardConnections, openFileLimit } from './http/connection-limit.js';
import { type Listener, listen, stopListener } from './http/listen.js';
import { loadOrCreateSigningKey } from './keys/signing-key-file.js';
import type { Logger } from './logger.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import { WsSyncServer } from './ws-sync/ws-server.js';

export interface RunningServer {
  app: AppContext;
  http: HttpApp;
  client: Listener;
  /** The federation listener, when `listeners.federation` is configured. */
  federation: Listener | undefined;
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
  await app.media.start();
  // With serve_federation the client port answers federation too (one port behind one proxy).
  const servesFederation = config.listeners.client.serve_federation;
  const http = createHttpApp(app, [...clientApiRoutes, ...(servesFederation ? federationRoutes : clientListenerFederationRoutes)]);
  const fedConfig = config.listeners.federation;
  const fedHttp = fedConfig ? createHttpApp(app, federationRoutes) : undefined;
  if (config.federation.insecure_skip_tls_verify) {
    logger.warn(
      { event: 'insecure_tls' },
      'federation.insecure_skip_tls_verify is ON: outbound federation TLS certificates are NOT verified; anyone on the network path can impersonate other servers',
    );
  }
  const ws = new WsSyncServer(app);
  http.upgrade = (req, socket, head) => ws.handleUpgrade(req, socket, head);
  let client: Listener;
  let federation: Listener | undefined;
  try {
    client = await listen(http, config.listeners.client.host, config.listeners.client.port, undefined, config.headers_timeout_ms);
    if (fedConfig && fedHttp) {
      const tls =
        fedConfig.tls_cert !== null && fedConfig.tls_key !== null
          ? { cert: readFileSync(fedConfig.tls_cert), key: readFileSync(fedConfig.tls_key) }
          : undefined;
      federation = await listen(fedHttp, fedConfig.host, fedConfig.port, tls, config.headers_timeout_ms);
      logger.info(
        { event: 'listening', listener: 'federation', host: federation.host, port: federation.port, tls: tls !== undefined },
        'listening',
      );
      if (!tls) {
        logger.info(
          { event: 'federation_plain_http', host: federation.host, port: federation.port },
          'federation listener serves plain HTTP: TLS terminated elsewhere (other servers only connect over HTTPS)',
        );
      }
    }
  } catch (err) {
    app.federation.close();
    await storage.close();
    throw err;
  }
  if (federation || servesFederation) await app.federation.start();
  // Connections beyond the open-files limit are refused and logged rather than crashing the process.
  const fdLimit = openFileLimit();
  const maxConnections = connectionBudget(fdLimit);
  guardConnections(client.server, logger, 'client', maxConnections);
  if (federation) guardConnections(federation.server, logger, 'federation', maxConnections);
  logger.info(
    {
      event: 'listening',
      listener: 'client',
      host: client.host,
      port: client.port,
      federation: servesFederation,
      open_files_limit: fdLimit?.soft ?? null,
      max_connections: maxConnections ?? null,
    },
    'listening',
  );
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ event: 'stopping' }, 'shutting down: draining requests');
      // Wake long-polls so they answer now instead of holding the shutdown for their full timeout.
      app.notifier.close();
      await ws.close(config.shutdown_grace_ms);
      await Promise.all([
        stopListener(http, client, config.shutdown_grace_ms),
        federation && fedHttp ? stopListener(fedHttp, federation, config.shutdown_grace_ms) : undefined,
      ]);
      app.federation.close();
      app.close();
      await storage.close();
      logger.info({ event: 'stopped' }, 'stopped');
    })();
    return stopping;
  };
  return { app, http, client, federation, ws, signingKeyCreated: created, stop };
}
