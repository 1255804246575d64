/** Creating a local account: shared by /register and `comet register-user`. */
import type { AppContext } from '../app-context.js';
import type { NewSession } from '../storage/storage.js';
import { hashPassword } from './passwords.js';
import { localpartOf } from './user-ids.js';

export interface CreateUserOptions {
  userId: string;
  password: string | null;
  isAdmin: boolean;
  session?: NewSession;
}

/** False if the user ID is already taken. The display name starts as the localpart. */
export async function createUser(
  app: Pick<AppContext, 'storage' | 'clock' | 'config'>,
  opts: CreateUserOptions,
): Promise<boolean> {
  const passwordHash = opts.password === null ? null : await hashPassword(opts.password, app.config.auth.scrypt_log_n);
  return app.storage.accounts.createUser(
    {
      userId: opts.userId,
      passwordHash,
      isAdmin: opts.isAdmin,
      createdTs: app.clock.now(),
      profile: { displayname: localpartOf(opts.userId) },
    },
    opts.session,
  );
}
