/**
 * N Comet servers federating on loopback, each its own process with its own data directory,
 * server name (hs1.test, hs2.test, …) and TLS certificate from a CA made at test time. Names are
 * resolved through `federation.resolve` to 127.0.0.1 ports chosen up front (the ports stay fixed
 * across restarts, so a stopped server can come back where the others expect it).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonValue } from '../../src/core/json.js';
import { parseSigningKeyFile, type SigningKey } from '../../src/core/signing.js';
import { createTestCa, type TestCa } from './test-ca.js';
import { registerUser, type TestUser } from './client.js';
import { launch, startServer, type TestServer } from './server.js';

export interface FederatedServer {
  name: string;
  fedPort: number;
  /** The running process (replaced by restart()). */
  server: TestServer;
  /** The server's signing key, read from its data directory (tests use it to forge or sign requests). */
  signingKey(): SigningKey;
}

export interface Federation {
  ca: TestCa;
  servers: FederatedServer[];
  get(name: string): FederatedServer;
  /** Stops one server (SIGTERM) without removing its data. */
  stop(name: string): Promise<void>;
  /** Starts a stopped server again on the same directory and ports. */
  restart(name: string): Promise<FederatedServer>;
  /** Stops every server and removes directories and the CA. */
  close(): Promise<void>;
}

type Tree = Record<string, unknown>;

function deepMerge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    const objects = [cur, v].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    out[k] = objects ? deepMerge(cur as Tree, v as Tree) : v;
  }
  return out;
}

/** A free loopback port (bound then released; nothing else on the machine races for 127.0.0.1 ports in tests). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface FederationOptions {
  /** Extra config per server name, deep-merged over the federation defaults. */
  config?: (name: string) => Record<string, unknown>;
}

export async function startFederation(names = ['hs1.test', 'hs2.test', 'hs3.test'], opts: FederationOptions = {}): Promise<Federation> {
  const ca = createTestCa();
  const ports = new Map<string, number>();
  for (const n of names) ports.set(n, await freePort());
  const resolve: Record<string, string> = {};
  for (const [n, p] of ports) resolve[n] = `127.0.0.1:${p}`;
  const dirs = new Map<string, string>();

  const servers: FederatedServer[] = await Promise.all(
    names.map(async (name) => {
      const cert = ca.issue(name);
      const dir = mkdtempSync(join(tmpdir(), `comet-fed-${name}-`));
      dirs.set(name, dir);
      const server = await startServer({
        dir,
        config: deepMerge({
          server_name: name,
          public_baseurl: `http://${name}/`,
          listeners: {
            federation: { host: '127.0.0.1', port: ports.get(name)!, tls_cert: cert.certPath, tls_key: cert.keyPath },
          },
          federation: { resolve, trusted_ca_file: ca.caPath },
        }, opts.config?.(name) ?? {}),
      });
      return makeHandle(name, server);
    }),
  );

  function makeHandle(name: string, server: TestServer): FederatedServer {
    return {
      name,
      fedPort: ports.get(name)!,
      server,
      signingKey: () => parseSigningKeyFile(readFileSync(join(server.dir, 'data', 'signing.key'), 'utf8'))[0],
    };
  }

  const get = (name: string) => {
    const s = servers.find((x) => x.name === name);
    if (!s) throw new Error(`no server ${name}`);
    return s;
  };

  return {
    ca,
    servers,
    get,
    async stop(name) {
      await get(name).server.stop();
    },
    async restart(name) {
      const old = get(name);
      const server = await launch(old.server.dir, old.server.configPath, name);
      const fresh = makeHandle(name, server);
      servers[servers.indexOf(old)] = fresh;
      return fresh;
    },
    async close() {
      await Promise.all(servers.map((s) => s.server.stop()));
      // Debugging aid: COMET_FED_LOGS=<dir> keeps every server's output after the test.
      const keep = process.env.COMET_FED_LOGS;
      if (keep) for (const s of servers) writeFileSync(join(keep, `${process.pid}-${s.name}.log`), `${s.server.output.join('\n')}\n`);
      for (const s of servers) s.server.cleanup();
      ca.cleanup();
    },
  };
}

/** A JSON request over TLS to a server's federation listener (optionally with an Authorization header). */
export async function fedRequest(
  fed: Federation,
  target: FederatedServer,
  method: string,
  path: string,
  opts: { body?: unknown; authorization?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: '127.0.0.1',
        port: target.fedPort,
        path,
        method,
        ca: fed.ca.caPem,
        servername: target.name,
        headers: {
          ...(opts.authorization ? { authorization: opts.authorization } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A request from one server of the federation to another, X-Matrix-signed with the sending
 * server's own key (tests use it to read what a server serves, or to speak for a server).
 */
export async function signedFedRequest(
  fed: Federation,
  from: FederatedServer,
  to: FederatedServer,
  method: string,
  path: string,
  body?: unknown,
  opts: { destination?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { signRequest } = await import('../../federation/auth/x-matrix.js');
  const authorization = signRequest(
    { method, uri: path, origin: from.name, destination: opts.destination ?? to.name, content: body as JsonValue | undefined },
    from.signingKey(),
  );
  return fedRequest(fed, to, method, path, { body, authorization });
}

export interface ServerPair {
  fed: Federation;
  hs1: TestServer;
  hs2: TestServer;
  /** A user on hs1. */
  alice: TestUser;
  /** A user on hs2. */
  bob: TestUser;
}

/** The usual two-server set-up: hs1.test and hs2.test federating, alice registered on hs1 and bob on hs2. */
export async function startPair(opts: FederationOptions = {}): Promise<ServerPair> {
  const fed = await startFederation(['hs1.test', 'hs2.test'], opts);
  const hs1 = fed.get('hs1.test').server;
  const hs2 = fed.get('hs2.test').server;
  return { fed, hs1, hs2, alice: await registerUser(hs1, 'alice'), bob: await registerUser(hs2, 'bob') };
}
