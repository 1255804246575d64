/**
 * "Never a 500, never a crash": every route the server registers (client API, media, admin,
 * federation served on the client port, the WebSocket path) gets a fixed set of malformed inputs —
 * bad path parameters, bad bodies, bad query strings, bad auth. Every answer must be below 500
 * (502/504 only when the input names an unreachable server) and every 4xx a JSON error with string
 * `errcode` and `error`. Afterwards the server still works and what it stored is intact.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { federationRoutes } from '../federation/routes/index.js';
import { signRequest } from '../federation/auth/x-matrix.js';
import { clientApiRoutes } from '../src/client-api/index.js';
import type { JsonValue } from '../src/core/json.js';
import type { Route } from '../src/http/route.js';
import { api, assertError, registerUser, type TestUser } from './harness/client.js';
import { type Federation, type FederatedServer, startFederation } from './harness/federation.js';
import { casesFor, type FuzzCase, type ParamValues, type RawReply, sendRaw } from './harness/fuzz-cases.js';
import { parseRawResponse, rawRequest, upload } from './harness/media.js';
import { createRoomAs, messageBodies, sendText } from './harness/room-helpers.js';
import type { TestServer } from './harness/server.js';
import { WS_PATH, WsSyncClient } from './harness/ws-client.js';

const enc = encodeURIComponent;
const report = process.env.COMET_FUZZ_REPORT;

/** Problems found, one line each; the test fails listing all of them. */
function judge(c: FuzzCase, route: string, reply: RawReply | Error, problems: string[]): void {
  const where = `${route} [${c.label}]`;
  if (reply instanceof Error) {
    problems.push(`${where}: ${reply.message}`);
    return;
  }
  const { status, text } = reply;
  if (c.expect && status !== c.expect.status) {
    problems.push(`${where}: expected ${c.expect.status} ${c.expect.errcode}, got ${status} ${text.slice(0, 200)}`);
    return;
  }
  if (status >= 500 && !(c.remote && (status === 502 || status === 504))) {
    problems.push(`${where}: ${status} ${text.slice(0, 200)}`);
    return;
  }
  if (status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`${where}: ${status} with a non-JSON body ${JSON.stringify(text.slice(0, 100))}`);
      return;
    }
    const b = body as { errcode?: unknown; error?: unknown; flows?: unknown } | null;
    // A user-interactive auth challenge is a 401 whose body is the flows, errcode only after a failed stage.
    if (status === 401 && Array.isArray(b?.flows) && b.errcode === undefined) return;
    if (typeof b?.errcode !== 'string' || typeof b.error !== 'string') {
      problems.push(`${where}: ${status} without string errcode/error: ${text.slice(0, 200)}`);
    } else if (c.expect && b.errcode !== c.expect.errcode) {
      problems.push(`${where}: expected ${c.expect.errcode}, got ${b.errcode}`);
    }
  }
}

describe('malformed input on every route', () => {
  let fed: Federation;
  let hs1: FederatedServer;
  let hs2: FederatedServer;
  let server: TestServer;
  let owner: TestUser;
  let keptRoom: string;

  before(async () => {
    const unreachable = { 'unreachable.test': '127.0.0.1:1' };
    fed = await startFederation(['hs1.test', 'hs2.test'], {
      config: (name) => ({
        federation: { resolve: unreachable, request_timeout_ms: 3000 },
        ...(name === 'hs1.test' ? { listeners: { client: { serve_federation: true } }, media: { remote_fetch_timeout_ms: 3000, url_preview: { enabled: true, timeout_ms: 2000 } } } : {}),
      }),
    });
    hs1 = fed.get('hs1.test');
    hs2 = fed.get('hs2.test');
    server = hs1.server;
    owner = await registerUser(server, 'keeper');
    keptRoom = await createRoomAs(server, owner);
    await sendText(server, owner, keptRoom, 'kept before the storm');
  });
  after(async () => {
    await fed?.close();
  });

  /** A fresh user with its own room, event and media, so a destructive case only spoils its own fixtures. */
  async function fixtures(): Promise<{ user: TestUser; values: ParamValues }> {
    const user = await registerUser(server);
    const roomId = await createRoomAs(server, user);
    const eventId = await sendText(server, user, roomId, 'fuzz target');
    const media = await upload(server, user.accessToken, Buffer.from('hello'), 'text/plain');
    const mediaId = String(media.json?.content_uri ?? 'mxc://hs1.test/none').split('/').pop() ?? 'none';
    const values: ParamValues = {
      roomId,
      roomIdOrAlias: roomId,
      roomAlias: '#fuzz-alias:hs1.test',
      eventId,
      userId: user.userId,
      deviceId: user.deviceId,
      eventType: 'm.room.message',
      type: 'm.fuzz',
      stateKey: '',
      keyName: 'displayname',
      txnId: 'txn-fuzz',
      filterId: '0',
      receiptType: 'm.read',
      serverName: 'hs1.test',
      mediaId,
      fileName: 'f.txt',
      queryType: 'profile',
      tag: 'u.fuzz',
    };
    return { user, values };
  }

  async function run(routes: readonly Route[], federation: boolean): Promise<{ problems: string[]; cases: number }> {
    const problems: string[] = [];
    let cases = 0;
    for (const route of routes) {
      const { user, values } = await fixtures();
      for (const c of casesFor(route, values)) {
        let authorization = c.authorization ?? `Bearer ${user.accessToken}`;
        if (federation && c.authorization === undefined) {
          let content: JsonValue | undefined;
          try {
            content = c.body && c.body.length > 0 ? (JSON.parse(c.body.toString('utf8')) as JsonValue) : undefined;
          } catch {
            content = undefined;
          }
          const request = { method: c.method, uri: c.url, origin: hs2.name, destination: hs1.name };
          try {
            authorization = signRequest({ ...request, content }, hs2.signingKey());
          } catch {
            // Content canonical JSON refuses (too deep, lone surrogates) is sent with a signature over none.
            authorization = signRequest(request, hs2.signingKey());
          }
        }
        cases++;
        const reply = await sendRaw(server.port, { ...c, authorization }).catch((err: Error) => err);
        // Writing a body the server refused (413) may fail after the answer; that is not a server fault.
        if (reply instanceof Error && c.label.includes('over-limit') && /EPIPE|ECONNRESET/.test(reply.message)) continue;
        judge(c, `${route.method} ${route.path}`, reply, problems);
        // Debugging aid: COMET_FUZZ_REPORT=<file> lists every case with its answer.
        if (report) appendFileSync(report, `${route.method} ${route.path}\t${c.label}\t${reply instanceof Error ? reply.message : `${reply.status} ${reply.text.slice(0, 160)}`}\n`);
      }
    }
    return { problems, cases };
  }

  it('client API and media routes', { timeout: 120_000 }, async () => {
    const { problems, cases } = await run(clientApiRoutes, false);
    assert.ok(cases > clientApiRoutes.length * 20, `only ${cases} cases`);
    assert.deepEqual(problems, []);
  });

  it('federation routes (served on the client port, X-Matrix signed by hs2)', { timeout: 120_000 }, async () => {
    const { problems, cases } = await run(federationRoutes, true);
    assert.ok(cases > federationRoutes.length * 20, `only ${cases} cases`);
    assert.deepEqual(problems, []);
  });

  it('a transaction of malformed PDUs and EDUs is answered, each bad item dropped on its own', async () => {
    const room = keptRoom;
    const junk: unknown[] = [null, 1, 'x', [], {}, { '': null, a: [1] }, { room_id: 5, user_id: [], typing: 'yes' }];
    const pdus: unknown[] = [
      ...junk,
      { room_id: room, type: 'm.room.message', sender: '@x:hs2.test', content: { body: 'x' }, auth_events: 'x', prev_events: [1], depth: 'x', hashes: 5, signatures: [] },
      { room_id: '!unknownfuzz:hs1.test', type: 'm.room.message', sender: '@x:hs2.test', content: {}, origin_server_ts: 1, depth: 1, prev_events: [], auth_events: [] },
      { room_id: room, type: 'm.room.member', state_key: '@x:hs2.test', sender: '@x:hs2.test', content: { membership: 7 } },
    ];
    const eduContents: unknown[] = [
      null,
      [],
      'x',
      {},
      { '': null, a: [1], type: 5 },
      { room_id: room, user_id: '@x:hs2.test', typing: 'yes' },
      { room_id: 5, user_id: [], typing: true },
      { [room]: { 'm.read': { '@x:hs2.test': { event_ids: 'x', data: 5 } } } },
      { [room]: { 'm.read': { '@x:hs2.test': { event_ids: [5], data: { ts: 'x' } } } } },
      { push: [null, 5, { user_id: 5, presence: 'dancing', last_active_ago: 'x' }] },
      { user_id: '@x:hs1.test', device_id: 5, stream_id: 'x', prev_id: 'x', deleted: 'x', keys: 5 },
      { user_id: '@x:hs2.test', device_id: 'D', stream_id: -1, prev_id: [null], keys: { device_keys: 5 } },
      { sender: 5, type: [], message_id: {}, messages: { '@x:hs1.test': { '*': 5 } } },
      { sender: '@x:hs2.test', type: 'm.x', message_id: 'm1', messages: { [owner.userId]: 5, '@bad': { D: {} } } },
      { user_id: 5, master_key: 'x', self_signing_key: [] },
    ];
    const eduTypes = ['m.typing', 'm.receipt', 'm.presence', 'm.device_list_update', 'm.direct_to_device', 'm.signing_key_update', 'm.unknown'];
    const problems: string[] = [];
    let n = 0;
    const send = async (label: string, body: unknown) => {
      const path = `/_matrix/federation/v1/send/fuzz-txn-${++n}`;
      const authorization = signRequest({ method: 'PUT', uri: path, origin: hs2.name, destination: hs1.name, content: body as JsonValue }, hs2.signingKey());
      const c: FuzzCase = { label, method: 'PUT', url: path, body: Buffer.from(JSON.stringify(body)), contentType: 'application/json', authorization };
      judge(c, 'PUT /send', await sendRaw(server.port, c).catch((err: Error) => err), problems);
    };
    const txn = (pdus: unknown[], edus: unknown[]) => ({ origin: hs2.name, origin_server_ts: 1, pdus, edus });
    await send('junk pdus', txn(pdus, []));
    for (const edu_type of eduTypes) {
      await send(`junk ${edu_type} EDUs`, txn([], eduContents.map((content) => ({ edu_type, content }))));
    }
    await send('junk EDU envelopes', txn([], [...junk, { edu_type: 5, content: {} }, { edu_type: 'm.typing' }]));
    assert.deepEqual(problems, []);
  });

  it('identifiers that cannot be IDs are refused rather than stored or echoed', async () => {
    const { user, values } = await fixtures();
    const redact = await api(server, 'PUT', `/_matrix/client/v3/rooms/${enc(values.roomId)}/redact/not-an-event-id/t1`, { token: user.accessToken, body: {} });
    assertError(redact, 400, 'M_INVALID_PARAM');
    const path = `/_matrix/federation/v1/user/devices/${enc(`#${user.localpart}:hs1.test`)}`;
    const authorization = signRequest({ method: 'GET', uri: path, origin: hs2.name, destination: hs1.name }, hs2.signingKey());
    const devices = await sendRaw(server.port, { method: 'GET', url: path, authorization });
    assert.equal(devices.status, 400, devices.text);
    assert.equal(JSON.parse(devices.text).errcode, 'M_INVALID_PARAM');
  });

  it('a transaction ID only repeats a request to the same path (send to two types, then redact, with one txnId)', async () => {
    const { user, values } = await fixtures();
    const room = enc(values.roomId);
    const put = (path: string, body: unknown) => api(server, 'PUT', `/_matrix/client/v3/rooms/${room}/${path}/same-txn`, { token: user.accessToken, body });
    const first = await put('send/m.room.message', { msgtype: 'm.text', body: 'one' });
    const retry = await put('send/m.room.message', { msgtype: 'm.text', body: 'one' });
    const other = await put('send/m.fuzz.other', { n: 2 });
    const redaction = await put(`redact/${enc(first.body.event_id)}`, {});
    assert.equal(retry.body.event_id, first.body.event_id, 'a retransmission returns the original event');
    assert.notEqual(other.body.event_id, first.body.event_id, 'another event type is another endpoint');
    assert.notEqual(redaction.body.event_id, first.body.event_id, 'the redaction was not swallowed as a retry');
    const redacted = await api(server, 'GET', `/_matrix/client/v3/rooms/${room}/event/${enc(first.body.event_id)}`, { token: user.accessToken });
    assert.deepEqual(redacted.body.content, {});
    assert.equal(redacted.body.unsigned.transaction_id, 'same-txn');
  });

  it('content with __proto__ and constructor keys is stored and read back as sent', async () => {
    const { user, values } = await fixtures();
    const content = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"y":2}},"body":"b","msgtype":"m.text"}');
    const accountData = `/_matrix/client/v3/user/${enc(user.userId)}/account_data/m.fuzz.proto`;
    assert.equal((await api(server, 'PUT', accountData, { token: user.accessToken, rawBody: JSON.stringify(content) })).status, 200);
    const readBack = await sendRaw(server.port, { method: 'GET', url: accountData, authorization: `Bearer ${user.accessToken}` });
    assert.deepEqual(JSON.parse(readBack.text), content);
    const state = `/_matrix/client/v3/rooms/${enc(values.roomId)}/state/m.fuzz.proto/`;
    assert.equal((await api(server, 'PUT', state, { token: user.accessToken, rawBody: JSON.stringify(content) })).status, 200);
    const stateBack = await sendRaw(server.port, { method: 'GET', url: state, authorization: `Bearer ${user.accessToken}` });
    assert.deepEqual(JSON.parse(stateBack.text), content);
  });

  it('the WebSocket path refuses plain and malformed upgrade requests cleanly', async () => {
    const problems: string[] = [];
    const wsCases: FuzzCase[] = [
      { label: 'plain GET', method: 'GET', url: WS_PATH },
      { label: 'POST', method: 'POST', url: WS_PATH, body: Buffer.from('{}'), contentType: 'application/json' },
      { label: 'bad query', method: 'GET', url: `${WS_PATH}?access_token=%FF` },
    ];
    for (const c of wsCases) {
      const reply = await sendRaw(server.port, c).catch((err: Error) => err);
      judge(c, 'WS', reply, problems);
    }
    assert.deepEqual(problems, []);
    // Broken handshakes: the ws library answers these itself (plain-text bodies), so only the status is checked.
    const upgrade = 'Upgrade: websocket\r\nConnection: Upgrade';
    const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
    for (const head of [
      `GET ${WS_PATH} HTTP/1.1\r\n${upgrade}\r\nSec-WebSocket-Version: 99\r\n${key}`,
      `GET ${WS_PATH} HTTP/1.1\r\n${upgrade}\r\nSec-WebSocket-Version: 13`,
      `GET ${WS_PATH}?access_token=%FF HTTP/1.1\r\n${upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short`,
      `POST ${WS_PATH} HTTP/1.1\r\n${upgrade}\r\nSec-WebSocket-Version: 13\r\n${key}`,
      `GET ${WS_PATH} HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade`,
      `GET /_matrix/client/versions HTTP/1.1\r\n${upgrade}\r\nSec-WebSocket-Version: 13\r\n${key}`,
    ]) {
      const { status } = parseRawResponse(await rawRequest(server, head));
      assert.ok(status >= 400 && status < 500, `${head.split('\r\n')[0]} → ${status}`);
    }
  });

  it('malformed WebSocket frames get error frames or a close, never a crash', async () => {
    const { user, values } = await fixtures();
    const ws = await WsSyncClient.connect(server.baseUrl, { token: user.accessToken });
    await ws.next((f) => f.type === 'sync');
    const deep = JSON.parse(`${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`);
    const lone = JSON.parse('"\\ud800"');
    for (const raw of ['not json', '[1,2]', '"str"', 'null', '{}', '{"type":5}', '{"type":"nope","request_id":"x"}', `${'['.repeat(10_000)}${']'.repeat(10_000)}`]) {
      ws.sendRaw(raw);
    }
    ws.sendRaw(Buffer.from([0xff, 0xfe, 0x00]));
    const requests: Record<string, unknown>[] = [
      { type: 'send', room_id: values.roomId, event_type: 'm.room.message', txn_id: 'w1', content: deep },
      { type: 'send', room_id: values.roomId, event_type: 'm.room.message', txn_id: 'w2', content: { body: lone } },
      { type: 'send', room_id: values.roomId, event_type: 'm.fuzz', state_key: lone, content: {} },
      { type: 'send', room_id: 5, event_type: [], content: 'x' },
      { type: 'typing', room_id: values.roomId, typing: 'yes', timeout: -1 },
      { type: 'receipt', room_id: values.roomId, receipt_type: 'm.read', event_id: '..' },
      { type: 'read_markers', room_id: '!unknownfuzz:hs1.test', 'm.fully_read': '$x' },
      { type: 'presence', presence: 'dancing' },
      { type: 'ack', next_batch: 'garbage' },
    ];
    const problems: string[] = [];
    for (const [i, frame] of requests.entries()) {
      const answer = await ws.request(frame).catch((err: Error) => ({ type: 'lost', error: err.message }));
      if (answer.type === 'result') continue;
      if (answer.type !== 'error' || typeof answer.errcode !== 'string' || typeof answer.error !== 'string' || (answer.status ?? 400) >= 500) {
        problems.push(`request ${i} (${String(frame.type)}) → ${JSON.stringify(answer).slice(0, 200)}`);
      }
    }
    ws.ws.close();
    await ws.closed;
    assert.deepEqual(problems, []);
  });

  it('afterwards the server still registers, creates rooms, sends and syncs, and kept its data', async () => {
    const user = await registerUser(server);
    const roomId = await createRoomAs(server, user);
    await sendText(server, user, roomId, 'after the storm');
    const sync = await api(server, 'GET', '/_matrix/client/v3/sync', { token: user.accessToken, query: { timeout: '0' } });
    assert.equal(sync.status, 200);
    const events = sync.body.rooms.join[roomId].timeline.events as { content: { body?: string } }[];
    assert.ok(events.some((e) => e.content.body === 'after the storm'));
    assert.deepEqual(await messageBodies(server, owner, keptRoom), ['kept before the storm']);
    const whoami = await api(server, 'GET', '/_matrix/client/v3/account/whoami', { token: owner.accessToken });
    assert.equal(whoami.body.user_id, owner.userId);
    const profile = await api(server, 'GET', `/_matrix/client/v3/profile/${enc(owner.userId)}`, {});
    assert.ok(profile.status < 500);
    // Nothing reached the catch-all for unexpected errors, and the process never wrote a crash report.
    assert.deepEqual(server.logs().filter((l) => l.msg === 'unhandled error'), []);
    assert.equal(server.stderr(), '');
  });
});
