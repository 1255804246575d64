/**
 * GET /voip/turnServer in each configuration, the MatrixRTC foci in /.well-known/matrix/client,
 * and Element Call style call-member state (MSC3401/MSC4143 as deployed) carried between members.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { relaunch, startServer, type TestServer } from './harness/server.js';
import { syncOnce, syncUntil } from './harness/sync-wait.js';

const TURN = '/_matrix/client/v3/voip/turnServer';

describe('turnServer and well-known', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) {
      await s.stop();
      s.cleanup();
    }
  });
  const start = async (config: Record<string, unknown>) => {
    const s = await startServer({ config });
    servers.push(s);
    return s;
  };

  test('no TURN configured: 200 with an empty object; no rtc_foci in well-known', async () => {
    const hs = await start({});
    const u = await registerUser(hs);
    const res = await api(hs, 'GET', TURN, { token: u.accessToken });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assertError(await api(hs, 'GET', TURN), 401, 'M_MISSING_TOKEN');
    const wk = await api(hs, 'GET', '/.well-known/matrix/client');
    assert.equal(wk.body['org.matrix.msc4143.rtc_foci'], undefined);
    // URIs without any credentials are not a TURN configuration either.
    const hs2 = await start({ turn: { uris: ['turn:127.0.0.1:3478'] } });
    const u2 = await registerUser(hs2);
    assert.deepEqual((await api(hs2, 'GET', TURN, { token: u2.accessToken })).body, {});
  });

  test('static credentials and rtc_foci from config', async () => {
    const foci = [{ type: 'livekit', livekit_service_url: 'https://jwt.example.org' }];
    const hs = await start({
      turn: { uris: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'], username: 'fixed', password: 'pw', user_lifetime_ms: 120_000 },
      matrix_rtc: { foci },
    });
    const u = await registerUser(hs);
    const res = await api(hs, 'GET', TURN, { token: u.accessToken });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      username: 'fixed',
      password: 'pw',
      uris: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349?transport=tcp'],
      ttl: 120,
    });
    const wk = await api(hs, 'GET', '/.well-known/matrix/client');
    assert.deepEqual(wk.body['org.matrix.msc4143.rtc_foci'], foci);
    assert.equal(typeof wk.body['m.homeserver'].base_url, 'string');
  });

  test('turn.allow_guests: a guest account gets credentials only when the config allows it', async () => {
    // Comet registers no guests (M_GUEST_ACCESS_FORBIDDEN), so one account is made a guest in the
    // database while the server is down: the flag the endpoint reads.
    let hs = await start({ turn: { uris: ['turn:127.0.0.1:3478?transport=udp'], shared_secret: 'guest-test', allow_guests: false } });
    const guest = await registerUser(hs);
    const user = await registerUser(hs);
    await hs.stop();
    const db = new Database(join(hs.dir, 'data', 'comet.db'));
    assert.equal(db.prepare('UPDATE users SET is_guest = 1 WHERE user_id = ?').run(guest.userId).changes, 1);
    db.close();
    hs = await relaunch(hs);
    servers.push(hs);
    assert.equal((await api(hs, 'GET', '/_matrix/client/v3/account/whoami', { token: guest.accessToken })).body.is_guest, true);
    assertError(await api(hs, 'GET', TURN, { token: guest.accessToken }), 403, 'M_FORBIDDEN');
    assert.ok((await api(hs, 'GET', TURN, { token: user.accessToken })).body.username.endsWith(`:${user.userId}`));

    await hs.stop();
    const config = parse(readFileSync(hs.configPath, 'utf8'));
    config.turn.allow_guests = true;
    writeFileSync(hs.configPath, stringify(config));
    hs = await relaunch(hs);
    servers.push(hs);
    const allowed = await api(hs, 'GET', TURN, { token: guest.accessToken });
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    assert.ok(allowed.body.username.endsWith(`:${guest.userId}`));
  });

  test('bad turn configuration stops the server with the key named', async () => {
    for (const [turn, key] of [
      [{ uris: ['http://x'] }, 'turn.uris.0'],
      [{ username: 'only-a-name' }, 'turn'],
      [{ secret: 'typo' }, 'turn.secret'],
    ] as const) {
      await assert.rejects(startServer({ config: { turn } }), (err: Error) => err.message.includes(key));
    }
  });
});

describe('MatrixRTC call membership state', () => {
  let hs: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    hs = await startServer();
    alice = await registerUser(hs);
    bob = await registerUser(hs);
  });
  after(async () => {
    await hs.stop();
    hs.cleanup();
  });

  test('members publish call memberships with expiry and see each other’s; leaving empties the content', async () => {
    const MEMBER = 'org.matrix.msc3401.call.member';
    // Element Call lets every member publish membership state, as the room creator sets it up.
    const created = await api(hs, 'POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'private_chat', invite: [bob.userId], power_level_content_override: { events: { [MEMBER]: 0, 'm.rtc.member': 0 } } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = created.body.room_id;
    assert.equal((await api(hs, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.accessToken, body: {} })).status, 200);
    const since = (await syncOnce(hs, bob)).next_batch;

    const stateKey = `_${alice.userId}_${alice.deviceId}_m.call`;
    const membership = {
      application: 'm.call',
      call_id: '',
      scope: 'm.room',
      device_id: alice.deviceId,
      expires: 14_400_000,
      focus_active: { type: 'livekit', focus_selection: 'oldest_membership' },
      foci_preferred: [{ type: 'livekit', livekit_service_url: 'https://jwt.example.org', livekit_alias: roomId }],
    };
    const put = (user: TestUser, key: string, content: unknown) =>
      api(hs, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${MEMBER}/${encodeURIComponent(key)}`, {
        token: user.accessToken,
        body: content,
      });
    assert.equal((await put(alice, stateKey, membership)).status, 200);
    const seen = await syncUntil(hs, bob, since, (b) =>
      (b.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e: { type: string; state_key?: string }) => e.type === MEMBER && e.state_key === stateKey),
    'alice’s call membership');
    const ev = seen.rooms.join[roomId].timeline.events.find((e: { type: string }) => e.type === MEMBER);
    // Expiry is origin_server_ts + expires (clients compare against their clock, corrected by unsigned.age).
    assert.equal(ev.content.expires, 14_400_000);
    assert.equal(typeof ev.origin_server_ts, 'number');
    assert.equal(typeof ev.unsigned.age, 'number');

    const current = await api(hs, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${MEMBER}/${encodeURIComponent(stateKey)}`, {
      token: bob.accessToken,
    });
    assert.deepEqual(current.body, membership);
    // Leaving: the same state key with empty content.
    assert.equal((await put(alice, stateKey, {})).status, 200);
    const left = await api(hs, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${MEMBER}/${encodeURIComponent(stateKey)}`, {
      token: bob.accessToken,
    });
    assert.deepEqual(left.body, {});
  });
});
