/** Admin endpoints are for server admins only (the account flag set by `comet register-user --admin`). */
import type { AppContext } from '../../app-context.js';
import { forbidden } from '../../http/errors.js';
import type { Requester } from '../../http/route.js';

export async function requireAdmin(app: AppContext, requester: Requester): Promise<void> {
  const user = await app.storage.accounts.getUser(requester.userId);
  if (!user?.isAdmin) throw forbidden('You are not a server admin');
}
