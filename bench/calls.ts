/**
 * Calls against a real Comet server process and a real coturn on loopback:
 * 1. m.call.invite sent (start of the PUT) → callee notified (its /sync long poll returns the
 *    invite): p50/p99 over CALLS invites.
 * 2. Call set-up end to end with real relay-only WebRTC peers (node-datachannel): from the caller
 *    creating its offer to both data channels open, all signalling through Comet: p50/p99 over SETUPS calls.
 * Run: node dist/bench/calls.js  (CALLS=100 SETUPS=20 by default; needs coturn's turnserver installed)
 */
import { SyncFollower } from '../spec-tests/harness/call-followers.js';
import { answerCall, type CallSide, fetchTurnCredentials, placeCall, sendCallEvent } from '../spec-tests/harness/call-peer.js';
import { api, registerUser } from '../spec-tests/harness/client.js';
import { startServer } from '../spec-tests/harness/server.js';
import { startTurn } from '../spec-tests/harness/turn.js';

const CALLS = Number(process.env.CALLS ?? 100);
const SETUPS = Number(process.env.SETUPS ?? 20);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

const turn = await startTurn();
const hs = await startServer({ config: { turn: { uris: [turn.uri], shared_secret: turn.secret } } });
try {
  const alice = await registerUser(hs, 'alice');
  const bob = await registerUser(hs, 'bob');
  const created = await api(hs, 'POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'trusted_private_chat', invite: [bob.userId], is_direct: true },
  });
  const roomId = created.body.room_id as string;
  await api(hs, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.accessToken, body: {} });
  const fa = new SyncFollower(hs, alice);
  const fb = new SyncFollower(hs, bob);
  await Promise.all([fa.start(), fb.start()]);
  const caller: CallSide = { server: hs, user: alice, roomId, follower: fa, bindAddress: '127.0.0.2', creds: await fetchTurnCredentials(hs, alice) };
  const callee: CallSide = { server: hs, user: bob, roomId, follower: fb, bindAddress: '127.0.0.3', creds: await fetchTurnCredentials(hs, bob) };

  const notify: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const callId = `bench-invite-${i}`;
    const waiting = fb.waitFor(callId, (e) => e.type === 'm.call.invite' && e.content.call_id === callId);
    const sentAt = performance.now();
    await sendCallEvent(caller, 'm.call.invite', { call_id: callId, party_id: 'a', version: '1', lifetime: 60_000, offer: { type: 'offer', sdp: 'v=0\r\n' } });
    notify.push((await waiting).at - sentAt);
    await sendCallEvent(caller, 'm.call.hangup', { call_id: callId, party_id: 'a', version: '1', reason: 'user_hangup' });
  }
  console.log(`invite sent → callee notified via /sync (${CALLS} calls): ${fmt(notify)}`);

  const setup: number[] = [];
  for (let i = 0; i < SETUPS; i++) {
    const callId = `bench-call-${i}`;
    const start = performance.now();
    const answering = answerCall(callee, callId);
    const placed = await placeCall(caller, callId, bob.userId);
    const answered = await answering;
    const leg = await answered.leg;
    await placed.connected;
    setup.push(performance.now() - start);
    await sendCallEvent(caller, 'm.call.hangup', { call_id: callId, party_id: placed.leg.partyId, version: '1', reason: 'user_hangup' });
    placed.leg.pc.close();
    leg.pc.close();
  }
  console.log(`call set-up, offer → both data channels open over TURN relay (${SETUPS} calls): ${fmt(setup)}`);
  await Promise.all([fa.stop(), fb.stop()]);
} finally {
  await hs.stop();
  hs.cleanup();
  await turn.stop();
}
process.exit(0);
