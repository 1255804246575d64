/**
 * The federation listener in-process over real TLS (certificates from a test CA made now), talked
 * to by FederationClients acting as other servers, and a stand-in remote server whose key
 * endpoint counts its hits. Everything on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { signRequest } from '../../federation/auth/x-matrix.js';
import { FederationClient, FederationError } from '../../federation/client/federation-client.js';
import { defineFederationRoute } from '../../federation/http/federation-route.js';
import { buildKeyResponse, isSignedBy, parseKeyResponse } from '../../federation/keys/key-response.js';
import { federationRoutes } from '../../federation/routes/index.js';
import { createTestCa, type TestCa } from '../../spec-tests/harness/test-ca.js';
import { type AppContext, createAppContext } from '../../src/app-context.js';
import { type Config, parseConfig } from '../../src/config/config.js';
import type { JsonObject } from '../../src/core/json.js';
import { generateSigningKey } from '../../src/core/signing.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { type Listener, listen, stopListener } from '../../src/http/listen.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

const logger = pino({ level: 'silent' });
const remoteKey = generateSigningKey('r1');
let ca: TestCa;
let hs1: AppContext;
let hs1Http: HttpApp;
let hs1Listener: Listener;
let remoteKeyServer: Server;
let wellKnownServer: Server;
let keyHits = 0;
let remote: FederationClient;
let aclRoom: string;

const echo = defineFederationRoute({
  method: 'PUT',
  path: '/_matrix/federation/v1/test_echo/{roomId}',
  body: z.object({ n: z.number() }),
  aclRoom: (p) => p.roomId,
  handler: async ({ origin, body, params }) => ({ body: { origin, n: body.n, room: params.roomId } }),
});

function serve(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function clientAs(serverName: string, fed: Partial<Config['federation']>, key = remoteKey): FederationClient {
  const config = parseConfig(
    {
      server_name: serverName,
      listeners: { client: { host: '127.0.0.1', port: 0 } },
      database: { path: ':memory:' },
      signing_key_path: 'x',
      federation: fed,
    },
    '/',
  );
  return new FederationClient({ serverName, signingKey: key, config: config.federation, logger, now: Date.now });
}

/** A raw request with a hand-made Authorization header. */
async function rawPut(path: string, body: JsonObject, authorization: string | undefined): Promise<{ status: number; body: JsonObject }> {
  const res = await fetchTls(path, 'PUT', body, authorization);
  return res;
}

function fetchTls(path: string, method: string, body: JsonObject | undefined, authorization?: string): Promise<{ status: number; body: JsonObject }> {
  return new Promise((resolve, reject) => {
    import('node:https').then(({ request }) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port: hs1Listener.port,
          path,
          method,
          ca: ca.caPem,
          servername: 'hs1.test',
          headers: { ...(authorization ? { authorization } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as JsonObject }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    }, reject);
  });
}

before(async () => {
  ca = createTestCa();
  const hs1Cert = ca.issue('hs1.test');
  const remoteCert = ca.issue('remote.test');
  const delegCert = ca.issue('deleg.test');
  remoteKeyServer = createHttpsServer({ cert: remoteCert.cert, key: remoteCert.key }, (req, res) => {
    if (req.url === '/_matrix/key/v2/server') {
      keyHits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(buildKeyResponse('remote.test', remoteKey, [], Date.now() + 3600_000)));
    } else {
      res.statusCode = 404;
      res.end('{"errcode":"M_UNRECOGNIZED","error":"no"}');
    }
  });
  const remotePort = await serve(remoteKeyServer);

  const config = parseConfig(
    {
      server_name: 'hs1.test',
      listeners: { client: { host: '127.0.0.1', port: 0 } },
      database: { path: ':memory:' },
      signing_key_path: 'x',
      federation: { resolve: { 'remote.test': `127.0.0.1:${remotePort}` }, trusted_ca_file: ca.caPath },
    },
    '/',
  );
  hs1 = createAppContext({ config, logger, storage: SqliteStorage.open(':memory:'), signingKey: generateSigningKey('h1') });
  hs1Http = createHttpApp(hs1, [...federationRoutes, echo]);
  hs1Listener = await listen(hs1Http, '127.0.0.1', 0, { cert: hs1Cert.cert, key: hs1Cert.key });

  wellKnownServer = createHttpsServer({ cert: delegCert.cert, key: delegCert.key }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/matrix/server') res.end(JSON.stringify({ 'm.server': 'hs1.test:8448' }));
    else res.end('{}');
  });
  const wkPort = await serve(wellKnownServer);
  remote = clientAs('remote.test', {
    resolve: { 'hs1.test': `127.0.0.1:${hs1Listener.port}`, 'deleg.test:443': `127.0.0.1:${wkPort}`, 'hs1.test:8448': `127.0.0.1:${hs1Listener.port}` },
    trusted_ca_file: ca.caPath,
  });

  const alice = '@alice:hs1.test';
  await hs1.storage.accounts.createUser({ userId: alice, passwordHash: null, isAdmin: false, createdTs: 1, profile: {} });
  aclRoom = await hs1.rooms.createRoom(alice, {
    initial_state: [{ type: 'm.room.server_acl', state_key: '', content: { allow: ['*'], deny: ['remote.test'] } }],
  });
});

after(async () => {
  remote.close();
  hs1.federation.close();
  await stopListener(hs1Http, hs1Listener, 100);
  remoteKeyServer.close();
  wellKnownServer.close();
  await hs1.storage.close();
  ca.cleanup();
});

test('a signed request is verified and the handler gets the origin; the key is fetched once', async () => {
  const r = await remote.request<JsonObject>('hs1.test', 'PUT', '/_matrix/federation/v1/test_echo/!r%3Ahs1.test', { body: { n: 1 } });
  assert.deepEqual(r, { origin: 'remote.test', n: 1, room: '!r:hs1.test' });
  await remote.request('hs1.test', 'PUT', '/_matrix/federation/v1/test_echo/!r%3Ahs1.test', { body: { n: 2 }, query: { a: 'b c' } });
  assert.equal(keyHits, 1);
});

test('X-Matrix failures are 401 M_UNAUTHORIZED: none, wrong destination, bad signature, unknown key', async () => {
  const path = '/_matrix/federation/v1/test_echo/!r%3Ahs1.test';
  const sign = (over: Record<string, unknown>, key = remoteKey) =>
    signRequest({ method: 'PUT', uri: path, origin: 'remote.test', destination: 'hs1.test', content: { n: 1 }, ...over }, key);
  const cases: Array<[string, string | undefined]> = [
    ['no header', undefined],
    ['wrong destination', sign({ destination: 'hs2.test' })],
    ['signature over other content', sign({ content: { n: 2 } })],
    ['signature over another path', sign({ uri: '/_matrix/federation/v1/test_echo/x' })],
    ['unknown key', sign({}, generateSigningKey('unknown'))],
    ['known key id, other key', sign({}, generateSigningKey('r1'))],
  ];
  const hitsBefore = keyHits;
  for (const [name, header] of cases) {
    const res = await rawPut(path, { n: 1 }, header);
    assert.equal(res.status, 401, name);
    assert.equal(res.body.errcode, 'M_UNAUTHORIZED', name);
  }
  // The unknown key caused one lookup; asking again does not.
  await rawPut(path, { n: 1 }, sign({}, generateSigningKey('unknown')));
  assert.equal(keyHits, hitsBefore + 1);
  // A header without destination (older servers) is accepted when the signature covers us.
  const legacy = sign({}).replace(/destination="[^"]*",/, '');
  assert.equal((await rawPut(path, { n: 1 }, legacy)).status, 200);
});

test('the room server ACL is enforced on inbound requests (403 M_FORBIDDEN)', async () => {
  await assert.rejects(
    remote.request('hs1.test', 'PUT', `/_matrix/federation/v1/test_echo/${encodeURIComponent(aclRoom)}`, { body: { n: 1 } }),
    (e: unknown) => e instanceof FederationError && e.status === 403 && e.errcode === 'M_FORBIDDEN',
  );
});

test('key server: self-signed keys with valid_until_ts; notary countersigns cached and fetched keys', async () => {
  const own = await remote.request('hs1.test', 'GET', '/_matrix/key/v2/server', { signed: false });
  const parsed = parseKeyResponse(own, 'hs1.test');
  assert.ok(parsed.ok);
  assert.ok(parsed.value.validUntilTs > Date.now());
  const hs1Keys = parsed.value.keys;

  const viaGet = await remote.request<{ server_keys: JsonObject[] }>('hs1.test', 'GET', '/_matrix/key/v2/query/remote.test');
  assert.equal(viaGet.server_keys.length, 1);
  assert.ok(parseKeyResponse(viaGet.server_keys[0], 'remote.test').ok, 'origin signature intact');
  assert.ok(isSignedBy(viaGet.server_keys[0], 'hs1.test', hs1Keys), 'notary signature');

  const viaPost = await remote.request<{ server_keys: JsonObject[] }>('hs1.test', 'POST', '/_matrix/key/v2/query', {
    body: { server_keys: { 'hs1.test': {}, 'remote.test': { 'ed25519:r1': { minimum_valid_until_ts: 0 } }, 'nowhere.test': {} } },
  });
  const names = viaPost.server_keys.map((r) => r.server_name).sort();
  assert.deepEqual(names, ['hs1.test', 'remote.test']);
  const empty = await remote.request<{ server_keys: JsonObject[] }>('hs1.test', 'POST', '/_matrix/key/v2/query', { body: { server_keys: {} } });
  assert.deepEqual(empty.server_keys, []);
});

test('discovery over TLS: /.well-known delegation to host:port, certificate checked for the delegated name', async () => {
  const v = await remote.request<JsonObject>('deleg.test', 'GET', '/_matrix/federation/v1/version', { signed: false });
  assert.deepEqual(v, { server: { name: 'Comet', version: '0.1.0' } });
});

test('TLS: untrusted CA and wrong certificate name fail; HTTP errors come back typed', async () => {
  const untrusting = clientAs('remote.test', { resolve: { 'hs1.test': `127.0.0.1:${hs1Listener.port}` } });
  await assert.rejects(untrusting.request('hs1.test', 'GET', '/_matrix/federation/v1/version'), (e: unknown) => e instanceof FederationError && e.kind === 'network');
  untrusting.close();
  const misnamed = clientAs('remote.test', { resolve: { 'other.test': `127.0.0.1:${hs1Listener.port}` }, trusted_ca_file: ca.caPath });
  await assert.rejects(misnamed.request('other.test', 'GET', '/_matrix/federation/v1/version'), (e: unknown) => e instanceof FederationError && /other\.test/.test(e.error));
  misnamed.close();
  const insecure = clientAs('remote.test', { resolve: { 'other.test': `127.0.0.1:${hs1Listener.port}` }, insecure_skip_tls_verify: true });
  assert.deepEqual(await insecure.request('other.test', 'GET', '/_matrix/federation/v1/version'), { server: { name: 'Comet', version: '0.1.0' } });
  insecure.close();
  await assert.rejects(
    remote.request('hs1.test', 'GET', '/_matrix/federation/v1/nothing'),
    (e: unknown) => e instanceof FederationError && e.status === 404 && e.errcode === 'M_UNRECOGNIZED' && e.kind === 'http',
  );
  const refused = clientAs('remote.test', { resolve: { 'gone.test': '127.0.0.1:1' } });
  await assert.rejects(refused.request('gone.test', 'GET', '/x'), (e: unknown) => e instanceof FederationError && e.status === 0);
  refused.close();
});
