import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { SAMPLE_CONFIG_PATH } from '../../src/config/first-run.js';

const minimal = () => ({
  server_name: 'example.org',
  listeners: { client: { host: '127.0.0.1', port: 8008 } },
  database: { engine: 'sqlite', path: './data/comet.db' },
  signing_key_path: './data/signing.key',
});

function errorOf(raw: unknown): string {
  try {
    parseConfig(raw, '/etc/comet');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('the sample config is valid and matches the documented first-run defaults', () => {
  const c = parseConfig(parse(readFileSync(SAMPLE_CONFIG_PATH, 'utf8')), '/srv/comet');
  assert.equal(c.server_name, 'localhost');
  assert.deepEqual(c.listeners.client, { host: '127.0.0.1', port: 8008, serve_federation: false });
  assert.equal(c.database.path, '/srv/comet/data/comet.db');
  assert.equal(c.signing_key_path, '/srv/comet/data/signing.key');
  assert.equal(c.listeners.federation, null);
});

test('defaults fill optional sections; relative paths resolve against the config directory', () => {
  const c = parseConfig(minimal(), '/etc/comet');
  assert.equal(c.database.path, '/etc/comet/data/comet.db');
  assert.equal(c.media.path, '/etc/comet/data/media');
  assert.equal(c.registration.enabled, false);
  assert.equal(c.log.level, 'info');
  assert.deepEqual(c.rate_limits.login, { per_second: 0.2, burst: 5 });
  assert.equal(c.public_baseurl, 'http://127.0.0.1:8008/');
  const abs = parseConfig({ ...minimal(), database: { engine: 'sqlite', path: '/var/lib/comet.db' } }, '/etc/comet');
  assert.equal(abs.database.path, '/var/lib/comet.db');
});

test('unknown keys fail naming the full key path', () => {
  assert.match(errorOf({ ...minimal(), serve_name: 'x' }), /unknown key "serve_name"/);
  const nested = { ...minimal(), registration: { enabled: true, tokens_requird: true } };
  assert.match(errorOf(nested), /unknown key "registration\.tokens_requird"/);
  const deep = { ...minimal(), rate_limits: { login: { per_second: 1, burst: 2, brust: 3 } } };
  assert.match(errorOf(deep), /unknown key "rate_limits\.login\.brust"/);
});

test('bad values fail naming the key', () => {
  const badPort = { ...minimal(), listeners: { client: { host: '127.0.0.1', port: 70000 } } };
  assert.match(errorOf(badPort), /"listeners\.client\.port"/);
  assert.match(errorOf({ ...minimal(), log: { level: 'loud' } }), /"log\.level"/);
  assert.match(errorOf({ ...minimal(), database: { engine: 'postgres', path: 'x' } }), /"database\.engine"/);
  assert.match(errorOf({ ...minimal(), server_name: 'bad name!' }), /"server_name"/);
  const { server_name: _, ...noName } = minimal();
  assert.match(errorOf(noName), /"server_name"/);
  assert.match(errorOf({ ...minimal(), registration: { tokens: ['has space'] } }), /"registration\.tokens\.0"/);
});

test('federation settings: defaults, resolve map validation, paths and TLS pairing', () => {
  const c = parseConfig(minimal(), '/etc/comet');
  assert.deepEqual(c.federation.resolve, {});
  assert.equal(c.federation.insecure_skip_tls_verify, false);
  assert.equal(c.federation.trusted_ca_file, null);
  assert.equal(c.federation.key_validity_ms, 86_400_000);
  const fed = parseConfig(
    {
      ...minimal(),
      federation: { resolve: { 'hs2.test': '127.0.0.1:8449', 'x.test:443': '[::1]:9000' }, trusted_ca_file: 'ca.pem' },
    },
    '/etc/comet',
  );
  assert.equal(fed.federation.resolve['hs2.test'], '127.0.0.1:8449');
  assert.equal(fed.federation.trusted_ca_file, '/etc/comet/ca.pem');
  assert.match(errorOf({ ...minimal(), federation: { resolve: { 'hs2.test': 'no-port' } } }), /"federation\.resolve\.hs2\.test"/);
  assert.match(errorOf({ ...minimal(), federation: { old_signing_keys: { 'rsa:x': { key: 'AA', expired_ts: 1 } } } }), /federation\.old_signing_keys/);
  const half = { ...minimal(), listeners: { client: { host: '127.0.0.1', port: 1 }, federation: { tls_cert: 'c.pem' } } };
  assert.match(errorOf(half), /tls_cert and tls_key must be set together/);
});
