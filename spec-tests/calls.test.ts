/**
 * Calls through a real TURN server (coturn, started here on loopback) between real WebRTC peers
 * (node-datachannel): credentials from GET /voip/turnServer, signalling as m.call.* room events
 * through Comet and /sync, relay-only ICE, a data channel carrying messages both ways, hangup seen
 * by both; on one server (group room) and across two federated servers (a DM the remote callee
 * was invited to). Also: coturn refuses forged and expired credentials, so the HMAC scheme is the
 * one coturn checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PeerConnection } from 'node-datachannel';
import { turnPassword } from '../src/calls/turn-credentials.js';
import { type EventFollower, SyncFollower, WsFollower } from './harness/call-followers.js';
import { type CallSide, fetchTurnCredentials, fullCall, iceServersFrom, sendCallEvent, type TurnCredentials } from './harness/call-peer.js';
import { api, registerUser, type TestUser } from './harness/client.js';
import { eventually } from './harness/eventually.js';
import { type Federation, startFederation } from './harness/federation.js';
import { startServer, type TestServer } from './harness/server.js';
import { startTurn, startTurnFromConfig, type TurnServer } from './harness/turn.js';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

async function createRoom(server: TestServer, creator: TestUser, body: Json): Promise<string> {
  const res = await api(server, 'POST', '/_matrix/client/v3/createRoom', { token: creator.accessToken, body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.room_id;
}

async function join(server: TestServer, user: TestUser, roomId: string, via?: string): Promise<void> {
  const res = await api(server, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
    token: user.accessToken,
    body: {},
    ...(via ? { query: { via } } : {}),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Whether relay candidates can be gathered with these credentials (coturn answers Allocate or refuses it). */
async function gathersRelay(creds: TurnCredentials): Promise<boolean> {
  const pc = new PeerConnection('probe', { iceServers: iceServersFrom(creds), iceTransportPolicy: 'relay', bindAddress: '127.0.0.4' });
  const relays: string[] = [];
  pc.onLocalCandidate((c) => {
    if (/ typ relay /.test(c)) relays.push(c);
  });
  const complete = new Promise<void>((resolve) => pc.onGatheringStateChange((s) => s === 'complete' && resolve()));
  pc.createDataChannel('probe');
  await complete;
  pc.close();
  return relays.length > 0;
}

describe('calls through coturn', () => {
  let turn: TurnServer;
  let hs: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const followers: EventFollower[] = [];

  before(async () => {
    turn = await startTurn();
    hs = await startServer({ config: { turn: { uris: [turn.uri], shared_secret: turn.secret, user_lifetime_ms: 3_600_000 } } });
    alice = await registerUser(hs, 'alice');
    bob = await registerUser(hs, 'bob');
    carol = await registerUser(hs, 'carol');
  });
  after(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    await hs?.stop();
    hs?.cleanup();
    await turn?.stop();
  });

  async function follow(server: TestServer, user: TestUser): Promise<SyncFollower> {
    const f = new SyncFollower(server, user);
    await f.start();
    followers.push(f);
    return f;
  }

  test('the credentials Comet hands out are accepted by coturn; forged and expired ones are refused', async () => {
    const creds = await fetchTurnCredentials(hs, alice);
    assert.deepEqual(creds.uris, [turn.uri]);
    assert.equal(creds.ttl, 3600);
    const [expiry, userId] = [creds.username.slice(0, creds.username.indexOf(':')), creds.username.slice(creds.username.indexOf(':') + 1)];
    assert.equal(userId, alice.userId);
    assert.ok(Number(expiry) > Date.now() / 1000);

    assert.equal(await gathersRelay(creds), true, 'valid credentials allocate a relay');
    assert.equal(await gathersRelay({ ...creds, password: turnPassword('not the secret', creds.username) }), false, 'wrong secret');
    const tampered = `${Number(expiry) + 86_400}:${userId}`;
    assert.equal(await gathersRelay({ ...creds, username: tampered }), false, 'expiry changed without re-signing');
    const expired = `${Math.floor(Date.now() / 1000) - 60}:${userId}`;
    assert.equal(await gathersRelay({ ...creds, username: expired, password: turnPassword(turn.secret, expired) }), false, 'expired');
    assert.match(turn.output(), /check_stun_auth|401/, 'coturn logged the refusals');
  });

  test('the coturn configuration in docs/calls.md, run on loopback, accepts Comet’s credentials and refuses forged ones', async () => {
    const doc = readFileSync(new URL('../../docs/calls.md', import.meta.url), 'utf8');
    const block = /A working `\/etc\/turnserver\.conf`[\s\S]*?```\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(block, 'docs/calls.md has the coturn configuration block');
    for (const key of ['use-auth-secret', 'static-auth-secret=', 'realm=', 'listening-port=', 'relay-ip=']) assert.match(block, new RegExp(`^${key}`, 'm'));
    // Only what must differ on a test machine changes: addresses and ports, the secret, no TLS
    // certificate, logs to stdout. Auth, realm, quotas and the denied peer ranges stay as documented.
    const docTurn = await startTurnFromConfig(turn.secret, ({ port, minPort, maxPort, dir }) => {
      const lines = block.split('\n').flatMap((line) => {
        const key = line.split('=')[0];
        if (['tls-listening-port', 'cert', 'pkey'].includes(key)) return [];
        const set: Record<string, string> = {
          'listening-ip': '127.0.0.1',
          'relay-ip': '127.0.0.1',
          'listening-port': String(port),
          'min-port': String(minPort),
          'max-port': String(maxPort),
          'static-auth-secret': turn.secret,
          'log-file': 'stdout',
        };
        return key in set && line.includes('=') ? [`${key}=${set[key]}`] : [line];
      });
      return [...lines, 'no-tls', 'no-dtls', 'simple-log', `pidfile=${joinPath(dir, 'turnserver.pid')}`, `userdb=${joinPath(dir, 'turndb')}`, ''].join('\n');
    });
    try {
      const creds = { ...(await fetchTurnCredentials(hs, alice)), uris: [docTurn.uri] };
      assert.equal(await gathersRelay(creds), true, docTurn.output());
      assert.equal(await gathersRelay({ ...creds, password: turnPassword('not the secret', creds.username) }), false);
    } finally {
      await docTurn.stop();
    }
  });

  test('a call in a group room: relay-only, data both ways, hangup seen by everyone', async () => {
    const roomId = await createRoom(hs, alice, { preset: 'private_chat', invite: [bob.userId, carol.userId], name: 'group call' });
    await join(hs, bob, roomId);
    await join(hs, carol, roomId);
    const [fa, fb, fc] = await Promise.all([follow(hs, alice), follow(hs, bob), follow(hs, carol)]);
    const caller: CallSide = { server: hs, user: alice, roomId, follower: fa, bindAddress: '127.0.0.2', creds: await fetchTurnCredentials(hs, alice) };
    const callee: CallSide = { server: hs, user: bob, roomId, follower: fb, bindAddress: '127.0.0.3', creds: await fetchTurnCredentials(hs, bob) };
    await fullCall(caller, callee, 'group-call-1', [fc]);
  });

  test('over WebSocket sync: the callee and an observer get every m.call.* type on their sockets and signal there', async () => {
    const roomId = await createRoom(hs, alice, { preset: 'private_chat', invite: [bob.userId, carol.userId], name: 'ws call' });
    await join(hs, bob, roomId);
    await join(hs, carol, roomId);
    const fa = await follow(hs, alice);
    const [fb, fc] = [new WsFollower(hs, bob), new WsFollower(hs, carol)];
    followers.push(fb, fc);
    await Promise.all([fb.start(), fc.start()]);
    // alice on /sync and HTTP, bob entirely on his socket: the call crosses transports both ways.
    const caller: CallSide = { server: hs, user: alice, roomId, follower: fa, bindAddress: '127.0.0.2', creds: await fetchTurnCredentials(hs, alice) };
    const callee: CallSide = { server: hs, user: bob, roomId, follower: fb, bindAddress: '127.0.0.3', creds: await fetchTurnCredentials(hs, bob) };
    await fullCall(caller, callee, 'ws-call-1', [fc]);
    assert.deepEqual([...new Set(fb.sent)].sort(), ['m.call.answer', 'm.call.candidates']);

    // The other two types: a second invite that bob rejects and alice renegotiates, all seen on the sockets.
    const base = { call_id: 'ws-call-2', version: '1' };
    await sendCallEvent(caller, 'm.call.invite', { ...base, party_id: 'pa', lifetime: 60_000, offer: { type: 'offer', sdp: 'v=0\r\n' } });
    await fb.waitFor('invite 2', (e) => e.type === 'm.call.invite' && e.content.call_id === 'ws-call-2');
    await sendCallEvent(caller, 'm.call.negotiate', { ...base, party_id: 'pa', lifetime: 10_000, description: { type: 'offer', sdp: 'v=0\r\n' } });
    await sendCallEvent(callee, 'm.call.reject', { ...base, party_id: 'pb' });
    assert.equal((await fa.waitFor('reject', (e) => e.type === 'm.call.reject' && e.content.call_id === 'ws-call-2')).event.sender, bob.userId);
    const types = ['m.call.invite', 'm.call.candidates', 'm.call.answer', 'm.call.select_answer', 'm.call.negotiate', 'm.call.reject', 'm.call.hangup'];
    for (const f of [fb, fc]) {
      for (const type of types) await f.waitFor(`${type} on the socket`, (e, r) => r === roomId && e.type === type);
    }
    assert.ok(fb.syncFrames > 0 && fc.syncFrames > 0);
  });

  test('m.call.reject and m.call.negotiate reach the other party', async () => {
    const roomId = await createRoom(hs, alice, { preset: 'trusted_private_chat', invite: [bob.userId], is_direct: true });
    await join(hs, bob, roomId);
    const [fa, fb] = await Promise.all([follow(hs, alice), follow(hs, bob)]);
    const a: CallSide = { server: hs, user: alice, roomId, follower: fa, bindAddress: '127.0.0.2', creds: await fetchTurnCredentials(hs, alice) };
    const b: CallSide = { ...a, user: bob, follower: fb };
    const base = { call_id: 'dm-call-1', version: '1' };
    await sendCallEvent(a, 'm.call.invite', { ...base, party_id: 'pa', lifetime: 60_000, offer: { type: 'offer', sdp: 'v=0\r\n' } });
    await fb.waitFor('invite', (e) => e.type === 'm.call.invite' && e.content.call_id === 'dm-call-1');
    await sendCallEvent(b, 'm.call.reject', { ...base, party_id: 'pb' });
    const reject = await fa.waitFor('reject', (e) => e.type === 'm.call.reject' && e.sender === bob.userId);
    assert.equal(reject.event.content.party_id, 'pb');
    await sendCallEvent(a, 'm.call.negotiate', { ...base, party_id: 'pa', lifetime: 10_000, description: { type: 'offer', sdp: 'v=0\r\n' } });
    const negotiate = await fb.waitFor('negotiate', (e) => e.type === 'm.call.negotiate' && e.content.call_id === 'dm-call-1');
    assert.equal(negotiate.event.content.description.type, 'offer');
  });

  test('call invites notify while live and not once their lifetime has passed', async () => {
    // The rule that makes them notify: the spec's .m.rule.call (notify, ring).
    const rules = await api(hs, 'GET', '/_matrix/client/v3/pushrules/', { token: carol.accessToken });
    const callRule = rules.body.global.underride.find((r: Json) => r.rule_id === '.m.rule.call');
    assert.deepEqual(callRule?.conditions, [{ kind: 'event_match', key: 'type', pattern: 'm.call.invite' }]);
    assert.deepEqual(callRule?.actions, ['notify', { set_tweak: 'sound', value: 'ring' }]);

    const roomId = await createRoom(hs, alice, { preset: 'trusted_private_chat', invite: [carol.userId], is_direct: true });
    await join(hs, carol, roomId);
    const a: CallSide = { server: hs, user: alice, roomId, follower: await follow(hs, alice), bindAddress: '127.0.0.2', creds: await fetchTurnCredentials(hs, alice) };
    const counts = async () => {
      const res = await api(hs, 'GET', '/_matrix/client/v3/sync', { token: carol.accessToken });
      return res.body.rooms.join[roomId].unread_notifications;
    };
    const invite = (callId: string, lifetime: number) =>
      sendCallEvent(a, 'm.call.invite', { call_id: callId, party_id: 'pa', version: '1', lifetime, offer: { type: 'offer', sdp: 'v=0\r\n' } });
    assert.equal((await counts()).notification_count, 0);
    await invite('live', 600_000);
    assert.equal((await counts()).notification_count, 1, 'a live invite notifies');
    const sentAt = Date.now();
    await invite('stale', 1);
    while (Date.now() - sentAt < 5) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await counts()).notification_count, 1, 'an invite that arrives expired does not');
    // One that rings for a while: it counts, and stops counting once nobody answered in time.
    // (Its expiry is origin_server_ts + 3 s, no earlier than ringAt + 3 s on the same clock.)
    const ringAt = Date.now();
    await invite('ringing', 3_000);
    const ringing = (await counts()).notification_count;
    const stoppedAt = ringAt + 3_000;
    if (Date.now() < stoppedAt) assert.equal(ringing, 2, 'a ringing invite counts');
    await eventually(async () => (await counts()).notification_count === 1, 'the unanswered invite stopped counting', 15_000);
    assert.ok(Date.now() >= stoppedAt, 'not before its lifetime was over');
  });
});

describe('a call across two federated servers', () => {
  let turn: TurnServer;
  let fed: Federation;
  const followers: SyncFollower[] = [];

  before(async () => {
    turn = await startTurn();
    fed = await startFederation(['hs1.test', 'hs2.test'], {
      config: () => ({ turn: { uris: [turn.uri], shared_secret: turn.secret } }),
    });
  });
  after(async () => {
    await Promise.all(followers.map((f) => f.stop()));
    await fed?.close();
    await turn?.stop();
  });

  test('alice on hs1 calls bob on hs2 in a DM: relay-only, data both ways, hangup seen by both; reject and negotiate cross too', async () => {
    const hs1 = fed.get('hs1.test').server;
    const hs2 = fed.get('hs2.test').server;
    const alice = await registerUser(hs1, 'alice');
    const bob = await registerUser(hs2, 'bob');
    const roomId = await createRoom(hs1, alice, { preset: 'trusted_private_chat', invite: [bob.userId], is_direct: true });
    await join(hs2, bob, roomId);
    const fa = new SyncFollower(hs1, alice);
    const fb = new SyncFollower(hs2, bob);
    followers.push(fa, fb);
    await Promise.all([fa.start(), fb.start()]);
    const caller: CallSide = { server: hs1, user: alice, roomId, follower: fa, bindAddress: '127.0.0.2', creds: await fetchTurnCredentials(hs1, alice) };
    const callee: CallSide = { server: hs2, user: bob, roomId, follower: fb, bindAddress: '127.0.0.3', creds: await fetchTurnCredentials(hs2, bob) };
    await fullCall(caller, callee, 'fed-call-1');

    // The two types a connected call does not use, across the servers too.
    const base = { call_id: 'fed-call-2', version: '1' };
    await sendCallEvent(caller, 'm.call.invite', { ...base, party_id: 'pa', lifetime: 60_000, offer: { type: 'offer', sdp: 'v=0\r\n' } });
    await fb.waitFor('invite 2', (e) => e.type === 'm.call.invite' && e.content.call_id === 'fed-call-2');
    await sendCallEvent(caller, 'm.call.negotiate', { ...base, party_id: 'pa', lifetime: 10_000, description: { type: 'offer', sdp: 'v=0\r\n' } });
    await sendCallEvent(callee, 'm.call.reject', { ...base, party_id: 'pb' });
    await fb.waitFor('negotiate', (e) => e.type === 'm.call.negotiate' && e.content.call_id === 'fed-call-2');
    await fa.waitFor('reject', (e) => e.type === 'm.call.reject' && e.content.call_id === 'fed-call-2');
  });
});
