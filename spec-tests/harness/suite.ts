/**
 * The usual suite set-up, declared in one line: a server started in `before` and stopped (with its
 * data directory removed) in `after`, for the `describe` it is called in.
 */
import { after, before } from 'node:test';
import { type StartOptions, startServer, type TestServer } from './server.js';

/**
 * Returns a stand-in for the suite's server, usable from the suite's first `before` hook on: hooks
 * run in the order they are declared, so call this before declaring any hook that uses the server.
 * A suite that replaces its server (a restart) keeps its own `let server` instead.
 */
export function suiteServer(opts: StartOptions = {}): TestServer {
  let started: TestServer | undefined;
  before(async () => {
    started = await startServer(opts);
  });
  after(async () => {
    await started?.stop();
    started?.cleanup();
  });
  // A proxy rather than a copy: the server does not exist yet when the suite is declared, and a
  // use before `before` should fail loudly instead of reading undefined fields.
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (!started) throw new Error(`the suite's server was used before it started (reading ${String(key)})`);
      return Reflect.get(started, key);
    },
  });
}
