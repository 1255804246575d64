/** The `comet` command line: `comet start` and `comet register-user`. */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config.js';
import { registerUserCommand } from './register-user.js';
import { startCommand } from './start.js';

const USAGE = `usage:
  comet start [--config FILE]
      Runs the server. FILE defaults to $COMET_CONFIG, else ./comet.yaml; if it does not exist it is
      created from config.sample.yaml.
  comet register-user --config FILE --user NAME --password PW [--admin]
      Creates a user (works whether or not public registration is enabled).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      user: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'p' },
      admin: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const configPath = values.config || process.env.COMET_CONFIG || './comet.yaml';
  switch (command) {
    case 'start':
      return startCommand(configPath);
    case 'register-user':
      if (!values.user || !values.password) {
        process.stderr.write(`register-user needs --user and --password\n\n${USAGE}`);
        return 2;
      }
      return registerUserCommand(configPath, values.user, values.password, values.admin ?? false);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || (err instanceof TypeError && 'code' in err)) {
      process.stderr.write(`comet: ${err.message}\n`);
    } else {
      process.stderr.write(`comet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
