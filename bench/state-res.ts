/**
 * State resolution benchmark: a room with 10,000 joined members forks into two branches of 500
 * conflicting state events each (power level changes, bans and kicks, topics, profile changes
 * overlapping between the branches), then the two states are resolved.
 * Prints the median of 5 runs and memory figures, for v2 (room version 11) and v2.1 (12).
 * Run: node --expose-gc dist/bench/state-res.js
 */
import { performance } from 'node:perf_hooks';
import type { StateMap } from '../src/core/pdu.js';
import { resolveState } from '../src/core/state-res/index.js';
import { type Branch, Dag } from '../test/core/state-res/dag.js';

const MEMBERS = 10_000;
const MODS = 20;
const PER_BRANCH = 500;

const member = (i: number) => `@u${i}:s${i % 50}.test`;
const mod = (i: number) => `@mod${i}:m.test`;

function buildRoom(version: string): { d: Dag; sets: StateMap[]; conflicted: number } {
  const d = new Dag(version, '@alice:a.test');
  const levels: Record<string, number> = {};
  for (let i = 0; i < MODS; i++) levels[mod(i)] = 50;
  const base = d.start(levels);
  for (let i = 0; i < MODS; i++) d.join(base, mod(i));
  for (let i = 0; i < MEMBERS; i++) d.join(base, member(i));
  d.topic(base, mod(0), 'before the fork');

  const grow = (b: Branch, side: number): void => {
    // Side 0 touches members 100..499 and bans 0..24; side 1 touches 300..699 and kicks 25..49.
    let profile = 100 + side * 200;
    let target = side * 25;
    for (let i = 0; i < PER_BRANCH; i++) {
      const slot = i % 20;
      if (slot === 0) {
        const users = { ...levels, [member(1000 + side * 100 + i)]: 10 + side };
        d.powerLevels(b, '@alice:a.test', users);
      } else if (slot === 1) {
        d.member(b, mod(i % MODS), member(target++), side === 0 ? 'ban' : 'leave');
      } else if (slot === 2 || slot === 3) {
        d.topic(b, mod((i + side) % MODS), `topic ${side}/${i}`);
      } else {
        const u = member(profile++);
        d.join(b, u, { displayname: `${u} (${side})` });
      }
    }
  };
  const a = d.fork(base);
  const b = d.fork(base);
  grow(a, 0);
  grow(b, 1);
  let conflicted = 0;
  for (const [k, v] of a.state) if (b.state.get(k) !== v) conflicted++;
  return { d, sets: [a.state, b.state], conflicted };
}

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

for (const version of ['11', '12']) {
  const { d, sets, conflicted } = buildRoom(version);
  resolveState(d.version, sets, d.lookup); // warm-up (JIT), not counted
  const times: number[] = [];
  let heapDelta = 0;
  for (let run = 0; run < 5; run++) {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const result = resolveState(d.version, sets, d.lookup);
    times.push(performance.now() - t0);
    heapDelta = Math.max(heapDelta, process.memoryUsage().heapUsed - heapBefore);
    if (result.size < MEMBERS) throw new Error('resolution lost members');
  }
  times.sort((x, y) => x - y);
  const mem = process.memoryUsage();
  console.log(
    `state res ${d.version.stateRes} (room v${version}): ${d.events.size} events, ${sets[0].size} state entries, ` +
      `${conflicted} conflicted keys; median ${times[2].toFixed(1)} ms ` +
      `(min ${times[0].toFixed(1)}, max ${times[4].toFixed(1)}); ` +
      `heapUsed delta ≤ ${mb(heapDelta)}${gc ? '' : ' (run with --expose-gc for a clean figure)'}; RSS ${mb(mem.rss)}`,
  );
}
