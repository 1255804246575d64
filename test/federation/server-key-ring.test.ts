import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { buildKeyResponse, parseKeyResponse } from '../../federation/keys/key-response.js';
import { KEY_RETRY_MS, type KeyTransport, ServerKeyRing } from '../../federation/keys/server-key-ring.js';
import type { JsonObject } from '../../src/core/json.js';
import { generateSigningKey, type SigningKey, signJson } from '../../src/core/signing.js';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

/** Remote servers as a transport: each serves its key response; `down` ones fail. */
function world() {
  const servers = new Map<string, { key: SigningKey; old: SigningKey[]; validity: number }>();
  const down = new Set<string>();
  const calls: string[] = [];
  let now = 10 * DAY;
  const response = (name: string) => {
    const s = servers.get(name)!;
    return buildKeyResponse(name, s.key, s.old.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, expiredTs: now - 1 })), now + s.validity);
  };
  const transport: KeyTransport = {
    async fetchServerKeys(server) {
      calls.push(`direct ${server}`);
      if (down.has(server) || !servers.has(server)) throw new Error('connection refused');
      return response(server);
    },
    async queryNotary(notary, body) {
      calls.push(`notary ${notary}`);
      if (down.has(notary)) throw new Error('connection refused');
      const out: JsonObject[] = [];
      for (const name of Object.keys(body.server_keys as JsonObject)) {
        if (!servers.has(name)) continue;
        out.push(signJson(response(name), notary, servers.get(notary)!.key) as unknown as JsonObject);
      }
      return { server_keys: out };
    },
  };
  return { servers, down, calls, transport, now: () => now, advance: (ms: number) => (now += ms), response };
}

function ring(w: ReturnType<typeof world>, notaries: string[] = []) {
  const storage = SqliteStorage.open(':memory:');
  const own = generateSigningKey('own');
  return {
    storage,
    ring: new ServerKeyRing({
      serverName: 'me.test',
      signingKey: own,
      oldKeys: [{ keyId: 'ed25519:retired', publicKey: generateSigningKey().publicKey, expiredTs: 5 }],
      keyValidityMs: DAY,
      store: storage.serverKeys,
      transport: w.transport,
      notaries: notaries.map((serverName) => ({ serverName, verifyKeys: [] })),
      now: w.now,
      logger,
    }),
  };
}

test('our key response is self-signed and lists retired keys as old_verify_keys', () => {
  const w = world();
  const { ring: r } = ring(w);
  const res = r.ownKeyResponse();
  const parsed = parseKeyResponse(res, 'me.test');
  assert.ok(parsed.ok);
  assert.equal(parsed.value.validUntilTs, w.now() + DAY);
  assert.deepEqual(parsed.value.keys.map((k) => [k.keyId, k.expiredTs]), [['ed25519:own', undefined], ['ed25519:retired', 5]]);
});

test('keys are fetched from the server once, cached (persisted), with validity capped at 7 days', async () => {
  const w = world();
  w.servers.set('a.test', { key: generateSigningKey('a1'), old: [], validity: 30 * DAY });
  const { ring: r, storage } = ring(w);
  const keys = await r.getVerifyKeys('a.test', ['ed25519:a1']);
  assert.equal(keys.length, 1);
  assert.equal(keys[0].validUntilTs, w.now() + 7 * DAY);
  await r.getVerifyKeys('a.test', ['ed25519:a1']);
  assert.deepEqual(w.calls, ['direct a.test']);
  assert.equal((await storage.serverKeys.getKeys('a.test')).length, 1);
  // Past validity the server is asked again (it may have extended it).
  w.advance(8 * DAY);
  await r.getVerifyKeys('a.test', ['ed25519:a1']);
  assert.deepEqual(w.calls, ['direct a.test', 'direct a.test']);
});

test('an unknown key is looked up once, not on every request', async () => {
  const w = world();
  w.servers.set('a.test', { key: generateSigningKey('a1'), old: [], validity: DAY });
  const { ring: r } = ring(w);
  assert.deepEqual(await r.getVerifyKeys('a.test', ['ed25519:nope']), []);
  assert.deepEqual(await r.getVerifyKeys('a.test', ['ed25519:nope']), []);
  const both = await Promise.all([r.getVerifyKeys('b.test', ['ed25519:x']), r.getVerifyKeys('b.test', ['ed25519:x'])]);
  assert.deepEqual(both, [[], []]);
  assert.deepEqual(w.calls, ['direct a.test', 'direct b.test']);
  w.advance(KEY_RETRY_MS);
  await r.getVerifyKeys('a.test', ['ed25519:nope']);
  assert.equal(w.calls.length, 3);
});

test('rotation: the old key stays verifiable (with its expiry) after the server moved on', async () => {
  const w = world();
  const k1 = generateSigningKey('k1');
  w.servers.set('a.test', { key: k1, old: [], validity: DAY });
  const { ring: r } = ring(w);
  assert.equal((await r.getVerifyKeys('a.test', ['ed25519:k1'])).length, 1);
  w.servers.set('a.test', { key: generateSigningKey('k2'), old: [k1], validity: DAY });
  w.advance(2 * DAY);
  const keys = await r.getVerifyKeys('a.test', ['ed25519:k1', 'ed25519:k2']);
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  assert.equal(byId.get('ed25519:k1')?.expiredTs, w.now() - 1);
  assert.equal(byId.get('ed25519:k2')?.expiredTs, undefined);
  assert.deepEqual(Buffer.from(byId.get('ed25519:k1')!.publicKey), Buffer.from(k1.publicKey));
});

test('a server that is down is looked up through a notary; the notary signature must check out', async () => {
  const w = world();
  w.servers.set('a.test', { key: generateSigningKey('a1'), old: [], validity: DAY });
  w.servers.set('notary.test', { key: generateSigningKey('n1'), old: [], validity: DAY });
  w.down.add('a.test');
  const { ring: r } = ring(w, ['notary.test']);
  const keys = await r.getVerifyKeys('a.test', ['ed25519:a1']);
  assert.equal(keys.length, 1);
  assert.deepEqual(w.calls, ['direct a.test', 'direct notary.test', 'notary notary.test']);
  // The notary serves the cached response later even if the origin is down (our cache serves as notary too).
  const served = await r.responsesFor('a.test', w.now());
  assert.equal(served.length, 1);
});

test('responses that are forged or for another server are refused', async () => {
  const w = world();
  const real = generateSigningKey('a1');
  w.servers.set('a.test', { key: real, old: [], validity: DAY });
  const { ring: r } = ring(w);
  const forged = { ...w.response('a.test'), valid_until_ts: w.now() + 99 * DAY };
  assert.equal(parseKeyResponse(forged, 'a.test').ok, false);
  assert.equal(parseKeyResponse(w.response('a.test'), 'b.test').ok, false);
  const unsigned = { ...w.response('a.test'), signatures: {} };
  assert.equal(parseKeyResponse(unsigned, 'a.test').ok, false);
  // A transport returning another server's answer yields nothing.
  w.transport.fetchServerKeys = async () => w.response('a.test');
  w.servers.set('c.test', { key: generateSigningKey('c1'), old: [], validity: DAY });
  assert.deepEqual(await r.getVerifyKeys('c.test', ['ed25519:a1']), []);
});

test('concurrent lookups of a server not seen before all get its key, from one fetch', async () => {
  const w = world();
  w.servers.set('a.test', { key: generateSigningKey('a1'), old: [], validity: DAY });
  const { ring: r } = ring(w);
  // Two requests from a new server arrive together (say make_join and a /send): both find the
  // store empty; neither may then conclude from the other's attempt that the key does not exist.
  const got = await Promise.all([1, 2, 3].map(() => r.getVerifyKeys('a.test', ['ed25519:a1'])));
  assert.deepEqual(got.map((k) => k.map((x) => x.keyId)), [['ed25519:a1'], ['ed25519:a1'], ['ed25519:a1']]);
  assert.deepEqual(w.calls, ['direct a.test']);
});

test('a lookup arriving while a slow fetch is under way waits for it rather than counting it as a miss', async () => {
  const w = world();
  w.servers.set('a.test', { key: generateSigningKey('a1'), old: [], validity: DAY });
  const { ring: r } = ring(w);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const direct = w.transport.fetchServerKeys;
  w.transport.fetchServerKeys = async (server) => {
    await gate;
    return direct(server);
  };
  // The first request from a.test starts the fetch (e.g. the invitee server's get_missing_events);
  // its make_join arrives before the key does.
  const first = r.getVerifyKeys('a.test', ['ed25519:a1']);
  await new Promise((resolve) => setImmediate(resolve));
  const second = r.getVerifyKeys('a.test', ['ed25519:a1']);
  release();
  for (const keys of await Promise.all([first, second])) assert.deepEqual(keys.map((k) => k.keyId), ['ed25519:a1']);
  assert.deepEqual(w.calls, ['direct a.test']);
});
