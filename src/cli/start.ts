import { resolve } from 'node:path';
import { loadConfig } from '../config/config.js';
import { ensureConfigFile } from '../config/first-run.js';
import { createLogger } from '../logger.js';
import { startServer } from '../server.js';

/** Runs until SIGINT/SIGTERM; resolves with the exit code once shut down. */
export async function startCommand(configPath: string): Promise<number> {
  const path = resolve(configPath);
  const firstRun = ensureConfigFile(path);
  if (firstRun) process.stdout.write(`Comet: no config at ${path}; wrote one from config.sample.yaml.\n`);
  const config = loadConfig(path);
  const logger = createLogger(config.log.level);
  const server = await startServer(config, logger);
  if (server.signingKeyCreated) {
    process.stdout.write(`Comet: generated signing key ${server.app.signingKey.keyId} at ${config.signing_key_path}\n`);
  }
  const base = `http://${server.client.host}:${server.client.port}`;
  process.stdout.write(`Comet: serving ${config.server_name} — client API at ${base}\n`);
  if ((await server.app.storage.accounts.countUsers()) === 0) {
    process.stdout.write(
      'Comet: no users yet. Create the first one with:\n' +
        `  npx comet register-user --config ${JSON.stringify(path)} --user alice --password 'choose-a-password' --admin\n`,
    );
  }
  return new Promise((resolveExit) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ event: 'signal', signal }, 'received signal');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      server.stop().then(
        () => resolveExit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          resolveExit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
