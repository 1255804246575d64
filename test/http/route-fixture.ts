/** An in-process app serving only the routes a test defines, on a free loopback port. */
import { pino } from 'pino';
import { type AppContext, createAppContext } from '../../src/app-context.js';
import { parseConfig } from '../../src/config/config.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { createHttpApp } from '../../src/http/app.js';
import { listen, stopListener } from '../../src/http/listen.js';
import type { Route } from '../../src/http/route.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

export interface RouteFixture {
  app: AppContext;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Open client connections on the listener. */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

/** `config` is added to a minimal one (server `test.local`, in-memory database). */
export async function serveRoutes(routes: readonly Route[], config: Record<string, unknown> = {}): Promise<RouteFixture> {
  const parsed = parseConfig(
    {
      server_name: 'test.local',
      listeners: { client: { host: '127.0.0.1', port: 0 } },
      database: { path: ':memory:' },
      signing_key_path: 'unused',
      ...config,
    },
    '/',
  );
  const app = createAppContext({ config: parsed, logger: pino({ level: 'silent' }), storage: SqliteStorage.open(':memory:'), signingKey: generateSigningKey() });
  const http = createHttpApp(app, routes);
  const listener = await listen(http, '127.0.0.1', 0);
  return {
    app,
    base: `http://127.0.0.1:${listener.port}`,
    connections: () =>
      new Promise<number>((resolve, reject) => listener.server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    stop: async () => {
      await stopListener(http, listener, 1000);
      await app.storage.close();
    },
  };
}
