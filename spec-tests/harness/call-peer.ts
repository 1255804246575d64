/**
 * Matrix 1:1 call signalling (m.call.* events, spec "Voice over IP") between two real WebRTC peers
 * (node-datachannel, i.e. libdatachannel): the offer, answer and ICE candidates travel as room
 * events through Comet, each side learning of the other's through its own /sync long poll or
 * WebSocket (call-followers.ts). ICE is relay-only with credentials from GET /voip/turnServer, and
 * each peer binds to its own loopback address (127.0.0.2, 127.0.0.3, …) while the TURN server
 * relays on 127.0.0.1: TURN permissions are per IP address, so a direct host-to-host path cannot
 * sneak in and the only working pair is relay to relay.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type DataChannel, type IceServer, PeerConnection } from 'node-datachannel';
import type { EventFollower } from './call-followers.js';
import { api, type TestUser } from './client.js';
import type { TestServer } from './server.js';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON from the wire
type Json = any;

export interface TurnCredentials {
  uris: string[];
  username: string;
  password: string;
  ttl: number;
}

export async function fetchTurnCredentials(server: TestServer, user: TestUser): Promise<TurnCredentials> {
  const res = await api(server, 'GET', '/_matrix/client/v3/voip/turnServer', { token: user.accessToken });
  if (res.status !== 200 || !Array.isArray(res.body?.uris)) throw new Error(`turnServer: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as TurnCredentials;
}

/** `turn:host:port?transport=udp` URIs as libdatachannel ICE servers (the username holds ':' and '@', so no URL form). */
export function iceServersFrom(creds: TurnCredentials): IceServer[] {
  return creds.uris.map((uri) => {
    const m = /^turns?:([^:?]+|\[[^\]]+\]):(\d+)(?:\?transport=(udp|tcp))?$/.exec(uri);
    if (!m) throw new Error(`unsupported TURN URI ${uri}`);
    const tls = uri.startsWith('turns:');
    return {
      hostname: m[1],
      port: Number(m[2]),
      username: creds.username,
      password: creds.password,
      relayType: tls ? 'TurnTls' : m[3] === 'tcp' ? 'TurnTcp' : 'TurnUdp',
    };
  });
}

export interface CallSide {
  server: TestServer;
  user: TestUser;
  roomId: string;
  /** How this party learns of room events (/sync or WebSocket); one with `send` also signals through it. */
  follower: EventFollower;
  /** The loopback address this peer's ICE agent binds to (127.0.0.2, 127.0.0.3, …). */
  bindAddress: string;
  creds: TurnCredentials;
}

export interface CallLeg {
  pc: PeerConnection;
  channel: DataChannel;
  partyId: string;
  /** Messages received on the data channel. */
  received: string[];
}

const VERSION = '1';
let txn = 0;

export async function sendCallEvent(side: CallSide, type: string, content: Json): Promise<string> {
  const txnId = `call-${process.pid}-${++txn}`;
  if (side.follower.send) return side.follower.send(side.roomId, type, content, txnId);
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(side.roomId)}/send/${type}/${txnId}`;
  const res = await api(side.server, 'PUT', path, { token: side.user.accessToken, body: content });
  if (res.status !== 200) throw new Error(`send ${type}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.event_id;
}

function newPeer(side: CallSide) {
  const pc = new PeerConnection(`${side.user.localpart}`, {
    iceServers: iceServersFrom(side.creds),
    iceTransportPolicy: 'relay',
    bindAddress: side.bindAddress,
  });
  const description = new Promise<string>((resolve) => pc.onLocalDescription((sdp) => resolve(sdp)));
  const candidates: Json[] = [];
  pc.onLocalCandidate((candidate, mid) => {
    candidates.push({ candidate: candidate.replace(/^a=/, ''), sdpMid: mid, sdpMLineIndex: 0 });
  });
  // The spec's end-of-candidates marker is an entry with an empty candidate string.
  const gathered = new Promise<Json[]>((resolve) =>
    pc.onGatheringStateChange((state) => {
      if (state === 'complete') resolve([...candidates, { candidate: '', sdpMid: '0', sdpMLineIndex: 0 }]);
    }),
  );
  return { pc, description, gathered };
}

function applyCandidates(pc: PeerConnection, event: Json): void {
  for (const c of event.content.candidates ?? []) {
    if (typeof c.candidate === 'string' && c.candidate !== '') pc.addRemoteCandidate(c.candidate, c.sdpMid ?? '0');
  }
}

function channelOpen(channel: DataChannel, received: string[]): Promise<void> {
  channel.onMessage((msg) => {
    received.push(typeof msg === 'string' ? msg : Buffer.from(msg as ArrayBuffer).toString('utf8'));
  });
  return new Promise((resolve) => {
    if (channel.isOpen()) resolve();
    else channel.onOpen(() => resolve());
  });
}

const fromOther = (side: CallSide, type: string, callId: string) => (e: Json, roomId: string) =>
  roomId === side.roomId && e.type === type && e.sender !== side.user.userId && e.content?.call_id === callId;

export interface PlacedCall {
  leg: CallLeg;
  inviteSentAt: number;
  /** Resolves when the data channel is open (the call is connected). */
  connected: Promise<void>;
}

/** The caller: offer, m.call.invite, candidates; then the answer, m.call.select_answer, the callee's candidates. */
export async function placeCall(side: CallSide, callId: string, invitee?: string): Promise<PlacedCall> {
  const { pc, description, gathered } = newPeer(side);
  const channel = pc.createDataChannel('comet-call');
  const partyId = randomUUID();
  const received: string[] = [];
  const open = channelOpen(channel, received);
  const offer = await description;
  const inviteSentAt = performance.now();
  await sendCallEvent(side, 'm.call.invite', {
    call_id: callId,
    party_id: partyId,
    version: VERSION,
    lifetime: 60_000,
    offer: { type: 'offer', sdp: offer },
    ...(invitee ? { invitee } : {}),
  });
  const connected = (async () => {
    await sendCallEvent(side, 'm.call.candidates', { call_id: callId, party_id: partyId, version: VERSION, candidates: await gathered });
    const answer = await side.follower.waitFor(`${callId} answer`, fromOther(side, 'm.call.answer', callId));
    pc.setRemoteDescription(answer.event.content.answer.sdp, 'answer');
    await sendCallEvent(side, 'm.call.select_answer', {
      call_id: callId,
      party_id: partyId,
      version: VERSION,
      selected_party_id: answer.event.content.party_id,
    });
    const theirs = await side.follower.waitFor(`${callId} callee candidates`, fromOther(side, 'm.call.candidates', callId));
    applyCandidates(pc, theirs.event);
    await open;
  })();
  return { leg: { pc, channel, partyId, received }, inviteSentAt, connected };
}

export interface AnsweredCall {
  leg: Promise<CallLeg>;
  /** performance.now() when the invite reached the callee (through its follower). */
  notifiedAt: number;
  invite: Json;
}

/** The callee: waits for the invite (through its follower), answers, trades candidates, waits for select_answer. */
export async function answerCall(side: CallSide, callId: string): Promise<AnsweredCall> {
  const invite = await side.follower.waitFor(`${callId} invite`, fromOther(side, 'm.call.invite', callId));
  const { pc, description, gathered } = newPeer(side);
  const partyId = randomUUID();
  const received: string[] = [];
  const channel = new Promise<DataChannel>((resolve) => pc.onDataChannel((dc) => resolve(dc)));
  pc.setRemoteDescription(invite.event.content.offer.sdp, 'offer');
  const leg = (async () => {
    const answer = await description;
    await sendCallEvent(side, 'm.call.answer', { call_id: callId, party_id: partyId, version: VERSION, answer: { type: 'answer', sdp: answer } });
    const theirs = await side.follower.waitFor(`${callId} caller candidates`, fromOther(side, 'm.call.candidates', callId));
    applyCandidates(pc, theirs.event);
    await sendCallEvent(side, 'm.call.candidates', { call_id: callId, party_id: partyId, version: VERSION, candidates: await gathered });
    const selected = await side.follower.waitFor(`${callId} select_answer`, fromOther(side, 'm.call.select_answer', callId));
    if (selected.event.content.selected_party_id !== partyId) throw new Error('another party was selected');
    const dc = await channel;
    await channelOpen(dc, received);
    return { pc, channel: dc, partyId, received };
  })();
  return { leg, notifiedAt: invite.at, invite: invite.event };
}

/** Resolves once `leg` has received `text` on its data channel. */
export async function receivedOn(leg: CallLeg, text: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!leg.received.includes(text)) {
    if (Date.now() > end) throw new Error(`data channel message ${JSON.stringify(text)} never arrived (got ${JSON.stringify(leg.received)})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * One whole call from caller to callee, checked as the calls issue asks: the invite reaches the
 * callee, the data channel carries a message each way over a relay/relay pair, and the hangup
 * reaches both parties and every observer, who also saw the whole negotiation.
 */
export async function fullCall(caller: CallSide, callee: CallSide, callId: string, observers: EventFollower[] = []): Promise<void> {
  const answering = answerCall(callee, callId);
  const placed = await placeCall(caller, callId, callee.user.userId);
  const answered = await answering;
  assert.equal(answered.invite.content.offer.type, 'offer');
  assert.equal(answered.invite.content.invitee, callee.user.userId);
  const calleeLeg = await answered.leg;
  await placed.connected;
  const callerLeg = placed.leg;
  try {
    callerLeg.channel.sendMessage('hello from the caller');
    await receivedOn(calleeLeg, 'hello from the caller');
    calleeLeg.channel.sendMessage('hello from the callee');
    await receivedOn(callerLeg, 'hello from the callee');

    for (const leg of [callerLeg, calleeLeg]) {
      const pair = leg.pc.getSelectedCandidatePair();
      assert.ok(pair, 'a candidate pair was selected');
      assert.equal(pair.local.type, 'relay', JSON.stringify(pair));
      assert.equal(pair.remote.type, 'relay', JSON.stringify(pair));
    }

    await sendCallEvent(caller, 'm.call.hangup', { call_id: callId, party_id: callerLeg.partyId, version: VERSION, reason: 'user_hangup' });
    const isHangup = (e: Json) => e.type === 'm.call.hangup' && e.content.call_id === callId;
    for (const f of [caller.follower, callee.follower, ...observers]) {
      const seen = await f.waitFor(`${callId} hangup`, isHangup);
      assert.equal(seen.event.content.reason, 'user_hangup');
    }
    for (const f of observers) {
      for (const type of ['m.call.invite', 'm.call.answer', 'm.call.select_answer', 'm.call.candidates']) {
        await f.waitFor(`${callId} ${type}`, (e) => e.type === type && e.content.call_id === callId);
      }
    }
  } finally {
    callerLeg.pc.close();
    calleeLeg.pc.close();
  }
}
