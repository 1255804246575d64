/**
 * User-interactive authentication (client-server API, "User-Interactive Authentication API").
 *
 * An endpoint calls `requireUia(req, auth, options)` before doing anything irreversible. It returns
 * once some flow is complete; otherwise it throws the spec's 401 challenge (`flows`, `params`,
 * `session`, `completed`, plus `errcode`/`error` when a stage attempt failed). Sessions live in the
 * database, are bound to the exact request (method + path) and expire after
 * auth.uia_session_lifetime_ms. A completed session stays valid until it expires, so a client that
 * lost the response can retry (the spec says a retry of completed stages must either get 401 with the
 * completed stages or the API result).
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.js';
import type { JsonObject } from '../../core/json.js';
import { HttpError, MatrixError } from '../../http/errors.js';
import { newSessionId } from '../../accounts/tokens.js';
import { verifyPassword } from '../../accounts/passwords.js';
import { resolveLocalUser } from '../../accounts/user-ids.js';
import type { UiaSession } from '../../storage/storage.js';

/** The `auth` object of a request body (extra keys depend on the stage type). */
export const uiaAuthSchema = z.looseObject({
  type: z.string().optional(),
  session: z.string().optional(),
});
export type UiaAuth = z.infer<typeof uiaAuthSchema>;

export type StageType = 'm.login.dummy' | 'm.login.password' | 'm.login.registration_token';

export interface UiaOptions {
  /** Each flow is a list of stages to complete in order. */
  flows: StageType[][];
  params?: JsonObject;
  /** The user the request acts for, when known (authenticated requests): password stages must prove it. */
  userId: string | null;
}

export interface UiaResult {
  /** The user proven by a password stage, else the `userId` option. */
  userId: string | null;
}

interface RequestLike {
  app: AppContext;
  method: string;
  path: string;
}

class StageFailed extends Error {
  constructor(
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

export async function requireUia(req: RequestLike, auth: UiaAuth | undefined, opts: UiaOptions): Promise<UiaResult> {
  const { app } = req;
  const now = app.clock.now();
  const action = `${req.method} ${req.path}`;
  const lifetime = app.config.auth.uia_session_lifetime_ms;

  let session: UiaSession | undefined;
  if (auth?.session !== undefined) {
    session = await app.storage.uia.get(auth.session);
    if (!session || session.createdTs + lifetime <= now) {
      throw new MatrixError(400, 'M_UNKNOWN', 'Unknown or expired user-interactive authentication session');
    }
    if (session.action !== action) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'This authentication session was started for a different request');
    }
  } else {
    await app.storage.uia.deleteOlderThan(now - lifetime);
    session = { sessionId: newSessionId(), action, userId: opts.userId, completed: [], createdTs: now };
    await app.storage.uia.create(session);
  }

  const challenge = (failure?: StageFailed) => {
    const body: JsonObject = {
      flows: opts.flows.map((stages) => ({ stages })),
      params: opts.params ?? {},
      session: session.sessionId,
    };
    if (session.completed.length > 0) body.completed = session.completed;
    if (failure) {
      body.errcode = failure.errcode;
      body.error = failure.message;
    }
    return new HttpError(401, body);
  };

  if (auth === undefined) throw challenge();

  if (auth.type !== undefined && !session.completed.includes(auth.type)) {
    const next = [...session.completed, auth.type];
    const inOrder = opts.flows.some((f) => next.every((stage, i) => f[i] === stage));
    if (!inOrder) throw challenge(new StageFailed('M_FORBIDDEN', `Auth stage ${auth.type} is not expected now`));
    try {
      const proven = await runStage(app, auth.type as StageType, auth, session.userId ?? opts.userId);
      session.completed = next;
      session.userId = proven ?? session.userId;
      await app.storage.uia.update(session.sessionId, session.completed, session.userId);
    } catch (err) {
      if (err instanceof StageFailed) throw challenge(err);
      throw err;
    }
  }

  const done = opts.flows.some((f) => f.length === session.completed.length && f.every((s, i) => session.completed[i] === s));
  if (!done) throw challenge();
  return { userId: session.userId ?? opts.userId };
}

/**
 * The password stage for an account action that works with or without an access token
 * (`requester`): returns the user it acts for, proven by the password.
 */
export async function requirePasswordUser(
  req: RequestLike,
  auth: UiaAuth | undefined,
  requester: { userId: string } | undefined | null,
): Promise<string> {
  const { userId } = await requireUia(req, auth, { flows: [['m.login.password']], userId: requester?.userId ?? null });
  if (userId === null) throw new Error('password stage completed without identifying a user');
  return userId;
}

/** Checks one stage; returns the user it proved (password stage) or undefined. Throws StageFailed. */
async function runStage(
  app: AppContext,
  type: StageType,
  auth: UiaAuth,
  expectedUser: string | null,
): Promise<string | undefined> {
  switch (type) {
    case 'm.login.dummy':
      return undefined;
    case 'm.login.registration_token': {
      const token = auth.token;
      if (typeof token !== 'string' || !app.config.registration.tokens.includes(token)) {
        throw new StageFailed('M_FORBIDDEN', 'Invalid registration token');
      }
      return undefined;
    }
    case 'm.login.password': {
      const userId = identifiedUser(app, auth);
      if (userId === undefined) throw new StageFailed('M_FORBIDDEN', 'Invalid user identifier');
      if (expectedUser !== null && userId !== expectedUser) {
        throw new StageFailed('M_FORBIDDEN', 'The identifier does not match the authenticated user');
      }
      const password = auth.password;
      const user = await app.storage.accounts.getUser(userId);
      const ok =
        typeof password === 'string' &&
        user !== undefined &&
        !user.deactivated &&
        user.passwordHash !== null &&
        (await verifyPassword(password, user.passwordHash));
      if (!ok) throw new StageFailed('M_FORBIDDEN', 'Invalid username or password');
      return userId;
    }
    default:
      throw new StageFailed('M_UNRECOGNIZED', `Unknown auth stage type ${String(type)}`);
  }
}

/** The local user named by `identifier` ({type: m.id.user, user}) or the legacy top-level `user`. */
export function identifiedUser(app: AppContext, auth: Record<string, unknown>): string | undefined {
  const id = auth.identifier;
  if (typeof id === 'object' && id !== null) {
    const { type, user } = id as Record<string, unknown>;
    if (type !== 'm.id.user' || typeof user !== 'string') return undefined;
    return resolveLocalUser(user, app.serverName);
  }
  return typeof auth.user === 'string' ? resolveLocalUser(auth.user, app.serverName) : undefined;
}
