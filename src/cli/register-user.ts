import { resolve } from 'node:path';
import { createUser } from '../accounts/create-user.js';
import { localpartOf, localpartProblem, resolveLocalUser } from '../accounts/user-ids.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/config.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';

/** Creates a user directly in the database (safe while the server runs: SQLite WAL, busy timeout). */
export async function registerUserCommand(configPath: string, user: string, password: string, admin: boolean) {
  const config = loadConfig(resolve(configPath));
  const userId = resolveLocalUser(user, config.server_name);
  if (userId === undefined) {
    process.stderr.write(`comet: ${user} is not a user of ${config.server_name}\n`);
    return 1;
  }
  const problem = localpartProblem(localpartOf(userId), config.server_name);
  if (problem) {
    process.stderr.write(`comet: ${problem}\n`);
    return 1;
  }
  const storage = SqliteStorage.open(config.database.path);
  try {
    const created = await createUser({ storage, clock: systemClock, config }, { userId, password, isAdmin: admin });
    if (!created) {
      process.stderr.write(`comet: ${userId} already exists\n`);
      return 1;
    }
    process.stdout.write(`Created ${admin ? 'admin ' : ''}user ${userId}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}
