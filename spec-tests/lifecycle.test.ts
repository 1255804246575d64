/** Process lifecycle: first run, config errors, register-user, graceful shutdown, restart, crash. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { api, login, registerUser } from './harness/client.js';
import { launch, startServer, testConfig } from './harness/server.js';

const COMET = fileURLToPath(new URL('../../bin/comet.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}, cwd?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [COMET, ...args], { env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lifecycle', () => {
  test('config errors stop the start with a message naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'comet-cfg-'));
    try {
      const path = join(dir, 'comet.yaml');
      writeFileSync(path, stringify(testConfig({ listeners: { client: { prot: 1 } } })));
      const r = await run(['start', '--config', path]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /unknown key "listeners\.client\.prot"/);
      writeFileSync(path, stringify(testConfig({ registration: { enabled: 'yes' } })));
      const r2 = await run(['start'], { COMET_CONFIG: path });
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /"registration\.enabled"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('first run without a config writes one, creates key and database, and says how to add a user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'comet-first-'));
    const configPath = join(dir, 'comet.yaml');
    try {
      // The sample listens on 127.0.0.1:8008. If that port is taken on this machine the start fails
      // cleanly after writing everything; both outcomes are checked.
      const { COMET_CONFIG: _, ...env } = process.env;
      const p = spawn(process.execPath, [COMET, 'start'], { cwd: dir, env });
      let out = '';
      let err = '';
      p.stderr.setEncoding('utf8').on('data', (d) => {
        err += d;
      });
      const listening = await new Promise<boolean>((resolve) => {
        p.stdout.setEncoding('utf8').on('data', (d) => {
          out += d;
          if (out.includes('register-user')) resolve(true);
        });
        p.on('exit', () => resolve(false));
      });
      if (listening) {
        p.kill('SIGTERM');
        await new Promise((r) => p.on('exit', r));
        assert.match(out, /http:\/\/127\.0\.0\.1:8008/);
        assert.match(out, /register-user --config .*comet\.yaml" --user \S+ --password/);
      } else {
        assert.match(err, /EADDRINUSE/);
      }
      assert.ok(existsSync(configPath));
      assert.match(readFileSync(configPath, 'utf8'), /^server_name: localhost$/m);
      assert.match(readFileSync(join(dir, 'data', 'signing.key'), 'utf8'), /^ed25519 \S+ [A-Za-z0-9+/]{43}\n$/);
      assert.ok(existsSync(join(dir, 'data', 'comet.db')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('register-user works while the server runs and with registration disabled', async () => {
    const server = await startServer({ config: { registration: { enabled: false } } });
    try {
      const r = await run(['register-user', '--config', server.configPath, '--user', 'Admin1', '--password', 'pw', '--admin']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /@admin1:localhost/);
      assert.equal((await login(server, 'admin1', 'pw')).status, 200);
      const dup = await run(['register-user', '--config', server.configPath, '--user', 'admin1', '--password', 'x']);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /already exists/);
      const bad = await run(['register-user', '--config', server.configPath, '--user', 'bad name', '--password', 'x']);
      assert.equal(bad.code, 1);
      const missing = await run(['register-user', '--config', server.configPath, '--user', 'x']);
      assert.equal(missing.code, 2);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });

  test('SIGTERM: the in-flight request finishes, new connections are refused, exit 0; a restart keeps everything', async () => {
    const server = await startServer();
    try {
      const u = await registerUser(server);
      const path = `/_matrix/client/v3/user/${encodeURIComponent(u.userId)}/account_data/org.example.inflight`;
      const body = JSON.stringify({ written: 'during shutdown' });

      // Expect: 100-continue makes the server confirm it has the request headers (the request is then
      // in flight) before we send the body; we send SIGTERM in between.
      const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${server.baseUrl}${path}`,
          {
            method: 'PUT',
            headers: {
              authorization: `Bearer ${u.accessToken}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              expect: '100-continue',
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d) => {
              text += d;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.on('continue', () => {
          // Send the body only once the server says it is draining.
          const deadline = Date.now() + 10_000;
          const waitForDrain = () => {
            if (server.logs().some((l) => l.event === 'stopping')) {
              // Draining: a new connection must be refused, then the in-flight request completes.
              fetch(`${server.baseUrl}/_matrix/client/versions`).then(
                () => reject(new Error('a new connection was accepted while draining')),
                () => req.end(body),
              );
            }
            else if (Date.now() > deadline) reject(new Error('server never started draining'));
            else setImmediate(waitForDrain);
          };
          void server.stop('SIGTERM');
          waitForDrain();
        });
      });
      const res = await response;
      assert.equal(res.status, 200, res.body);
      const exit = await server.exited;
      assert.equal(exit.code, 0);
      assert.ok(server.logs().some((l) => l.event === 'stopped'), 'the database was closed cleanly');

      const again = await launch(server.dir, server.configPath);
      try {
        const who = await api(again, 'GET', '/_matrix/client/v3/account/whoami', { token: u.accessToken });
        assert.equal(who.status, 200, 'tokens survive a restart');
        assert.equal((await login(again, u.localpart, u.password)).status, 200, 'users survive a restart');
        const data = await api(again, 'GET', path, { token: u.accessToken });
        assert.deepEqual(data.body, { written: 'during shutdown' });
      } finally {
        await again.stop();
      }
    } finally {
      server.cleanup();
    }
  });

  test('a crash (SIGKILL) loses no acknowledged write', async () => {
    const server = await startServer();
    try {
      const u = await registerUser(server);
      const path = `/_matrix/client/v3/user/${encodeURIComponent(u.userId)}/account_data/org.example.crash`;
      for (let i = 0; i < 20; i++) {
        assert.equal((await api(server, 'PUT', path, { token: u.accessToken, body: { i } })).status, 200);
      }
      const exit = await server.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      const again = await launch(server.dir, server.configPath);
      try {
        assert.deepEqual((await api(again, 'GET', path, { token: u.accessToken })).body, { i: 19 });
      } finally {
        await again.stop();
      }
    } finally {
      server.cleanup();
    }
  });
});
