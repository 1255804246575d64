/**
 * Idle resident memory of a freshly started server (goal ≤ 80 MB): start `node bin/comet.js start`,
 * make a few requests (versions, register, whoami, createRoom, a message), let it settle, read VmRSS
 * from /proc/<pid>/status. Median of several starts. Run: node dist/bench/idle-rss.js [starts]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from '../spec-tests/harness/server.js';
import { fmt, LoadClient, median, register, rssMb } from './load-client.js';

const STARTS = Number(process.argv[2] ?? 3);
const SETTLE_MS = 1000;

const atStart: number[] = [];
const afterRequests: number[] = [];
for (let i = 0; i < STARTS; i++) {
  const server = await startServer();
  const client = new LoadClient(server.baseUrl, 4);
  try {
    await sleep(SETTLE_MS);
    atStart.push(rssMb(server.pid));
    await client.ok('GET', '/_matrix/client/versions');
    const user = await register(client, 'idle');
    await client.ok('GET', '/_matrix/client/v3/account/whoami', user.token);
    const room = await client.ok('POST', '/_matrix/client/v3/createRoom', user.token, {});
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(room.body.room_id)}/send/m.room.message/t1`;
    await client.ok('PUT', path, user.token, { msgtype: 'm.text', body: 'hello' });
    await sleep(SETTLE_MS);
    afterRequests.push(rssMb(server.pid));
  } finally {
    client.close();
    await server.stop();
    server.cleanup();
  }
}
const list = (xs: number[]) => xs.map((x) => fmt(x, 1)).join(', ');
console.log(`idle RSS after start:           median ${fmt(median(atStart), 1)} MB (${list(atStart)})`);
console.log(`idle RSS after a few requests:  median ${fmt(median(afterRequests), 1)} MB (${list(afterRequests)}); goal ≤ 80 MB`);
