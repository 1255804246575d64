/**
 * Typing storm: U users in one room, all on WebSocket sync (two load-generator processes), each
 * flipping its typing state over the socket every P ms for S seconds; prints server CPU, typing
 * updates sent, and m.typing events delivered.
 *
 * Run: node dist/bench/typing-storm.js [users=100] [everyMs=1000] [seconds=30]
 */
import { Fleet, split } from './load/fleet.js';
import { prepare, processStats, sleep, startPrepared } from './load/prepare.js';

const users = Number(process.argv[2] ?? 100);
const everyMs = Number(process.argv[3] ?? 1000);
const seconds = Number(process.argv[4] ?? 30);

const prepared = await prepare({ users, roomMembers: users });
const server = await startPrepared(prepared);
const fleet = new Fleet();
try {
  const parts = split(
    prepared.users.map((u) => u.token),
    2,
  );
  const idle0 = processStats(server.pid);
  await sleep(3000);
  const idle1 = processStats(server.pid);
  const result = await fleet.start(
    parts.map((tokens, i) => ({
      mode: 'ws' as const,
      baseUrl: server.baseUrl,
      tokens,
      localAddress: `127.0.0.${i + 2}`,
      typing: { roomId: prepared.roomId!, everyMs },
    })),
  );
  // Measured from when everyone is connected (connecting is not what this bench is about).
  const t0 = Date.now();
  const a = processStats(server.pid);
  fleet.go();
  await sleep(seconds * 1000);
  const b = processStats(server.pid);
  const elapsed = Date.now() - t0;
  const report = await fleet.report();
  console.log(
    `typing storm: ${result.connected} users in one room, each flipping typing every ${everyMs} ms for ~${seconds} s: ` +
      `${report.typingSent} typing updates sent (${((1000 * report.typingSent) / elapsed).toFixed(0)}/s), ` +
      `${report.typingEvents} m.typing events delivered, ${report.frames} sync frames; ` +
      `server CPU ${((100 * (b.cpuMs - a.cpuMs)) / elapsed).toFixed(0)}% of one core ` +
      `(idle before: ${((100 * (idle1.cpuMs - idle0.cpuMs)) / 3000).toFixed(1)}%), RSS ${b.rssMiB.toFixed(0)} MiB; ` +
      `client errors ${report.errors}, unexpected closes ${report.closedUnexpectedly}`,
  );
} finally {
  await fleet.stop();
  await server.stop();
  server.cleanup();
}
