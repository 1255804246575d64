/**
 * Inbound transactions: PDUs per second a Comet server accepts from a remote server over
 * `PUT /_matrix/federation/v1/send/{txnId}` — each PDU format-checked, signature-verified,
 * hash-checked, authorised against its auth events and the state before it, soft-fail checked
 * and stored, as in production. The receiving server (hs2.test) is a real server process with its
 * TLS federation listener; this bench process is the remote side (it speaks for hs1.test with
 * hs1's key, after a real hs1 process set the room up and was stopped). PDUs are built and signed
 * before the clock starts; transactions go one at a time (50 PDUs each), as a sender does.
 * Loopback only.
 *
 *   node dist/bench/federation-send.js [pdusPerRound=1000] [rounds=5]
 */
import { signRequest } from '../federation/auth/x-matrix.js';
import { buildEvent } from '../src/core/event-builder.js';
import type { JsonObject } from '../src/core/json.js';
import type { Pdu } from '../src/core/pdu.js';
import { getRoomVersion, type RoomVersion } from '../src/rooms/versions.js';
import { toRoomEvent } from '../src/core/event-format.js';
import { api, registerUser } from '../spec-tests/harness/client.js';
import { fedRequest, signedFedRequest, startFederation } from '../spec-tests/harness/federation.js';
import { roomState } from '../spec-tests/harness/room-helpers.js';

const perRound = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const PDUS_PER_TXN = 50;
const enc = encodeURIComponent;

const fed = await startFederation(['hs1.test', 'hs2.test']);
try {
  const hs1 = fed.get('hs1.test');
  const hs2 = fed.get('hs2.test');
  const alice = await registerUser(hs1.server, 'alice');
  const bob = await registerUser(hs2.server, 'bob');
  const created = await api(hs1.server, 'POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat', room_alias_name: 'bench' },
  });
  const roomId: string = created.body.room_id;
  const joined = await api(hs2.server, 'POST', `/_matrix/client/v3/join/${enc('#bench:hs1.test')}`, { token: bob.accessToken, body: {} });
  if (joined.status !== 200) throw new Error(`join failed: ${JSON.stringify(joined.body)}`);
  // From here on this process is hs1 (hs2 has its keys already).
  await fed.stop('hs1.test');

  const state = await roomState(hs2.server, bob, roomId);
  const version = getRoomVersion(String(state.get('m.room.create|')?.content.room_version)) as RoomVersion;
  const auth = [state.get('m.room.power_levels|')!.event_id, state.get(`m.room.member|${alice.userId}`)!.event_id];
  if (!version.roomIdFromCreateEvent) auth.unshift(state.get('m.room.create|')!.event_id);
  const latest = await api(hs2.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, { token: bob.accessToken, query: { dir: 'b', limit: '1' } });
  let prevId: string = latest.body.chunk[0].event_id;
  // Read as hs2 itself: hs1 is down, and hs2 trusts its own key.
  const prev = await signedFedRequest(fed, hs2, hs2, 'GET', `/_matrix/federation/v1/event/${enc(prevId)}`);
  let depth = ((prev.body.pdus as JsonObject[])[0].depth as number) + 1;
  const key = hs1.signingKey();
  const total = perRound * rounds;
  const t0 = performance.now();
  const pdus: Pdu[] = [];
  for (let i = 0; i < total; i++) {
    const { pdu } = buildEvent(
      {
        type: 'm.room.message',
        sender: alice.userId,
        content: { msgtype: 'm.text', body: `bench message ${i}` },
        roomId,
        prevEvents: [prevId],
        authEvents: auth,
        depth: depth++,
        originServerTs: Date.now(),
      },
      version,
      'hs1.test',
      key,
    );
    prevId = toRoomEvent(pdu, version).eventId;
    pdus.push(pdu);
  }
  console.log(`built and signed ${total} PDUs in ${((performance.now() - t0) / 1000).toFixed(2)} s (not counted)`);

  const rates: number[] = [];
  let txn = 0;
  for (let r = 0; r < rounds; r++) {
    const batch = pdus.slice(r * perRound, (r + 1) * perRound);
    const start = performance.now();
    for (let i = 0; i < batch.length; i += PDUS_PER_TXN) {
      const body = { origin: 'hs1.test', origin_server_ts: Date.now(), pdus: batch.slice(i, i + PDUS_PER_TXN), edus: [] };
      const path = `/_matrix/federation/v1/send/bench-${process.pid}-${++txn}`;
      const authorization = signRequest({ method: 'PUT', uri: path, origin: 'hs1.test', destination: 'hs2.test', content: body as unknown as JsonObject }, key);
      const res = await fedRequest(fed, hs2, 'PUT', path, { body, authorization });
      if (res.status !== 200) throw new Error(`transaction refused: ${res.status} ${JSON.stringify(res.body)}`);
      const results = Object.values(res.body.pdus as Record<string, { error?: string }>);
      const failed = results.filter((x) => x.error !== undefined);
      if (results.length !== body.pdus.length || failed.length > 0) throw new Error(`PDUs not accepted: ${JSON.stringify(failed[0])}`);
    }
    const secs = (performance.now() - start) / 1000;
    rates.push(batch.length / secs);
    console.log(`round ${r + 1}: ${batch.length} PDUs in ${secs.toFixed(2)} s = ${(batch.length / secs).toFixed(0)} PDUs/s`);
  }
  // Every PDU is in hs2's timeline: the last one is the room's latest event.
  const last = await api(hs2.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages`, { token: bob.accessToken, query: { dir: 'b', limit: '1' } });
  if (last.body.chunk[0].content.body !== `bench message ${total - 1}`) throw new Error('the last PDU is not the latest event on hs2');
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const rss = Number(/VmRSS:\s+(\d+)/.exec(await import('node:fs').then((fs) => fs.readFileSync(`/proc/${hs2.server.pid}/status`, 'utf8')))?.[1] ?? 0);
  console.log(`median: ${median.toFixed(0)} PDUs/s accepted over PUT /send (${PDUS_PER_TXN} per transaction, one transaction in flight); receiver RSS ${(rss / 1024).toFixed(0)} MB`);
} finally {
  await fed.close();
}
